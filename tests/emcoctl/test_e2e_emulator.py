"""The samples applied with the real CLI entry point to the EMCO emulator over HTTP.

The samples create global objects with fixed names (controller rsync, provider1/cluster1,
provider2/cluster2) that other tests' setups on the session emulator also create, so this
test runs its own emulator subprocess: ``apply -s`` can then insist on a clean 0 exit, and the
final ``delete`` steps cannot remove clusters another test relies on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emco_migrate import cli
from emco_migrate.emcoctl.samples import (
    DEFAULT_SAMPLES_DIR,
    package_samples,
    write_config_file,
    write_values_file,
)
from support import waiting
from support.emulator import Emulator, start_emulator

pytestmark = pytest.mark.integration

INTENTS = DEFAULT_SAMPLES_DIR / "intents"
DIG = "projects/proj1/composite-apps/hello-capp/v1/deployment-intent-groups/hello-dig"
DEADLINE_SECONDS = 30
STEPS = (
    "00.define-clusters-proj.yaml",
    "01.instantiate-lc.yaml",
    "02.define-app-dig.yaml",
    "03.instantiate-dig.yaml",
)


@pytest.fixture
def private_emulator(tmp_path: Path) -> Iterator[Emulator]:
    """An emulator subprocess of this test's own (same launcher as the session fixture)."""
    with start_emulator(tmp_path / "emcosim.db") as running:
        yield running


def emcoctl(config: Path, verb: str, values: Path, step: str) -> int:
    argv = ["emcoctl", "--config", str(config), verb, "-s", "-v", str(values), "-f", step]
    return cli.main(argv)


def wait_for(url: str, path: str, done: Any, what: str) -> dict[str, Any]:
    """Poll ``GET path`` until ``done(json)`` holds; fail with the last answer at the deadline."""
    last: dict[str, Any] = {}
    with httpx.Client(base_url=url, timeout=10) as client:

        def probe() -> dict[str, Any] | None:
            nonlocal last
            response = client.get(path)
            if response.status_code != 200:
                return None
            last = response.json()
            return last if done(last) else None

        try:
            return waiting.poll(probe, timeout=DEADLINE_SECONDS, what=what)
        except AssertionError as err:
            raise AssertionError(f"{err}; the last answer: {last}") from None


def wait_for_dig_on(url: str, provider: str, cluster: str) -> dict[str, Any]:
    """Poll the DIG status until it is Instantiated with hello-edge's resources on cluster."""

    def deployed(status: dict[str, Any]) -> bool:
        kinds = _kinds_on(status, provider, cluster)
        return _state(status) == "Instantiated" and kinds >= {"Deployment", "Service"}

    return wait_for(url, f"/v2/{DIG}/status", deployed, f"hello-edge on {provider}/{cluster}")


def _state(status: dict[str, Any]) -> str:
    actions = (status.get("states") or {}).get("actions") or []
    return str(actions[-1]["state"]) if actions else ""


def _kinds_on(status: dict[str, Any], provider: str, cluster: str) -> set[str]:
    kinds: set[str] = set()
    for app in status.get("apps") or []:
        if app.get("name") != "hello-edge":
            continue
        for where in app.get("clusters") or []:
            if (where.get("clusterProvider"), where.get("cluster")) == (provider, cluster):
                kinds |= {r["GVK"]["Kind"] for r in where.get("resources") or []}
    return kinds


def test_samples_00_to_04_deploy_hello_edge_on_cluster1(
    private_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = private_emulator.url.rstrip("/")
    packages = package_samples(DEFAULT_SAMPLES_DIR, tmp_path / "build")
    values = write_values_file(
        tmp_path / "values.yaml",
        {
            "EmcoURL": url,
            "AppChart": packages["hello-edge"],
            "AppProfile": packages["hello-edge-profile"],
        },
    )
    config = write_config_file(tmp_path / "emco-cfg.yaml", url)
    monkeypatch.chdir(INTENTS)  # file: paths resolve as in the seed's `cd samples/intents`

    for step in STEPS:
        assert emcoctl(config, "apply", values, step) == 0, step

    status = wait_for_dig_on(url, "provider1", "cluster1")
    assert _kinds_on(status, "provider2", "cluster2") == set()
    # What the simulated clusters hold, not only what EMCO's status says.
    placed = {
        (provider, cluster, r.kind)
        for provider, cluster, r in private_emulator.resources(project="proj1", dig="hello-dig")
        if r.app == "hello-edge"
    }
    assert placed == {("provider1", "cluster1", "Deployment"), ("provider1", "cluster1", "Service")}

    # The workflow intent passes workflowmgr's schema (RetryPolicy in every activity entry).
    assert emcoctl(config, "apply", values, "04.define-workflow-1.yaml") == 0
    with httpx.Client(base_url=url, timeout=10) as client:
        stored = client.get(f"/v2/{DIG}/temporal-workflow-intents/migrate-to-cluster2").json()
    options = stored["spec"]["temporal"]["workflowParams"]["activityOptions"]["all-activities"]
    assert options["StartToCloseTimeout"] == 60_000_000_000
    assert options["RetryPolicy"]["MaximumAttempts"] == 5
    assert emcoctl(config, "get", values, "04.define-workflow-1.yaml") == 0

    # Undo everything with `delete`, newest first; the emulator is left as it was found.
    assert emcoctl(config, "delete", values, "04.define-workflow-1.yaml") == 0
    assert emcoctl(config, "delete", values, "03.instantiate-dig.yaml") == 0
    wait_for(  # EMCO refuses to delete a DIG while it is still terminating
        url,
        f"/v2/{DIG}/status?status=deployed",
        lambda s: _state(s) == "Terminated" and s.get("deployedStatus") == "Terminated",
        "hello-dig terminated",
    )
    for step in reversed(STEPS[:3]):  # 02, 01, 00
        assert emcoctl(config, "delete", values, step) == 0, step
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/v2/projects/proj1").status_code == 404
        assert client.get("/v2/cluster-providers/provider1").status_code == 404
