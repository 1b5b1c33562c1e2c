"""The image definitions: hadolint, and what each target runs, as whom, on what base."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from .conftest import CHARTS, DOCKERFILE, ROOT, pyproject, venv_tool
from .dockerfile import Dockerfile

TARGETS = ("worker", "workflowclient")
UID_GID = "10001:10001"
OCI_LABELS = (
    "org.opencontainers.image.title",
    "org.opencontainers.image.description",
    "org.opencontainers.image.version",
    "org.opencontainers.image.revision",
    "org.opencontainers.image.created",
    "org.opencontainers.image.licenses",
    "org.opencontainers.image.base.name",
)


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return Dockerfile.parse(DOCKERFILE)


def test_hadolint_finds_nothing() -> None:
    proc = subprocess.run(
        [str(venv_tool("hadolint")), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


@pytest.mark.parametrize("target", TARGETS)
def test_base_is_a_pinned_slim_python_the_package_supports(
    dockerfile: Dockerfile, target: str
) -> None:
    image = dockerfile.base_image(target)
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-[a-z]+", image)
    assert match, f"{target} base {image!r} is not python:X.Y.Z-slim-<debian release>"
    minimum = re.search(r"(\d+)\.(\d+)", pyproject()["project"]["requires-python"])
    assert minimum
    assert (int(match[1]), int(match[2])) >= (int(minimum[1]), int(minimum[2]))
    # The builder's virtualenv is copied as is, so it must come from the same interpreter.
    assert dockerfile.base_image("builder") == image


@pytest.mark.parametrize("target", TARGETS)
def test_runs_as_the_fixed_non_root_user_the_charts_expect(
    dockerfile: Dockerfile, target: str
) -> None:
    user = dockerfile.last(target, "USER")
    assert user is not None and user.value == UID_GID
    uid, gid = (int(x) for x in UID_GID.split(":"))
    values = yaml.safe_load((CHARTS / target / "values.yaml").read_text())
    assert values["podSecurityContext"]["runAsUser"] == uid
    assert values["podSecurityContext"]["runAsGroup"] == gid
    assert values["securityContext"]["runAsUser"] == uid


@pytest.mark.parametrize("target", TARGETS)
def test_entrypoint_is_exec_form_of_a_packaged_console_script(
    dockerfile: Dockerfile, target: str
) -> None:
    entrypoint = dockerfile.exec_form(target, "ENTRYPOINT")
    assert entrypoint, f"{target} has no ENTRYPOINT"
    assert entrypoint[0] in pyproject()["project"]["scripts"]
    shells = {"sh", "bash", "/bin/sh", "/bin/bash", "-c"}
    assert not shells & set(entrypoint + (dockerfile.exec_form(target, "CMD") or []))


@pytest.mark.parametrize("target", TARGETS)
def test_stop_signal_is_the_one_that_drains(dockerfile: Dockerfile, target: str) -> None:
    stop = dockerfile.last(target, "STOPSIGNAL")
    assert stop is not None and stop.value == "SIGTERM"


@pytest.mark.parametrize("target", TARGETS)
def test_oci_labels(dockerfile: Dockerfile, target: str) -> None:
    labels = dockerfile.key_values(target, "LABEL")
    missing = [name for name in OCI_LABELS if not labels.get(name)]
    assert not missing
    assert labels["org.opencontainers.image.title"] == f"emco-migrate-{target}"
    assert labels["org.opencontainers.image.licenses"] == pyproject()["project"]["license"]


@pytest.mark.parametrize("target", TARGETS)
def test_read_only_root_friendly_environment(dockerfile: Dockerfile, target: str) -> None:
    env = dockerfile.key_values(target, "ENV")
    assert env["TMPDIR"] == "/tmp"
    assert env["HOME"] == "/tmp"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PATH"].startswith("/opt/venv/bin:")


def test_runtime_stage_gets_only_the_virtualenv_from_the_builder(dockerfile: Dockerfile) -> None:
    runtime = dockerfile.stage("runtime")
    copies = runtime.all("COPY")
    assert [c.value for c in copies] == ["--from=builder /opt/venv /opt/venv"]
    for target in TARGETS:
        for stage in dockerfile.chain(target):
            for run in stage.all("RUN"):
                assert not re.search(r"\b(pip|apt-get|apt|curl|wget)\b", run.value), run.value


def test_locked_dependencies_install_before_the_code_is_copied(dockerfile: Dockerfile) -> None:
    steps = [(i.keyword, i.value) for i in dockerfile.stage("builder").instructions]
    deps = next(n for n, (k, v) in enumerate(steps) if k == "RUN" and "--requirement" in v)
    code = next(n for n, (k, v) in enumerate(steps) if k == "COPY" and v.startswith("src "))
    first_copy = next(n for n, (k, _) in enumerate(steps) if k == "COPY")
    assert steps[first_copy] == ("COPY", "build/docker/requirements.lock ./")
    assert "--require-hashes" in steps[deps][1]
    assert first_copy < deps < code


def test_workflowclient_image_serves_9090_with_the_external_client_dir(
    dockerfile: Dockerfile,
) -> None:
    assert any("/opt/emco" in run.value for run in dockerfile.stage("workflowclient").all("RUN"))
    expose = dockerfile.last("workflowclient", "EXPOSE")
    assert expose is not None and expose.value == "9090"
    cmd = dockerfile.exec_form("workflowclient", "CMD") or []
    assert cmd[cmd.index("--port") + 1] == "9090"
    assert cmd[cmd.index("--exec-dir") + 1] == "/opt/emco"
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"


def test_build_context_holds_what_the_dockerfile_copies(dockerfile: Dockerfile) -> None:
    ignore = (DOCKERFILE.parent / f"{DOCKERFILE.name}.dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    sources = [
        word.rstrip("/")
        for copy in dockerfile.stage("builder").all("COPY")
        for word in copy.value.split()[:-1]
        if not word.startswith("--")
    ]
    for source in sources:
        assert (ROOT / source).exists(), source
        assert source in allowed, f"{source} is excluded from the build context"


def test_make_images_builds_both_targets() -> None:
    proc = subprocess.run(
        ["make", "-n", "images"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    for target in TARGETS:
        assert re.search(
            rf"build -f build/docker/Dockerfile --target {target} .*-t \S+-{target}:\S+ \.",
            " ".join(proc.stdout.replace("\\\n", " ").split()),
        ), proc.stdout
