"""What the images run, run from the built wheel in a clean virtualenv.

The images install the project's wheel into a virtualenv and run their ENTRYPOINT and CMD
from it; this does the same outside a container (there is no container engine in CI).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from emco_migrate import __version__
from emco_migrate.version import REVISION_FILE

from .conftest import COMPOSE_FILE, DOCKERFILE, ROOT
from .dockerfile import Dockerfile

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

TARGETS = ("worker", "workflowclient")
# The flags the Helm charts and the compose file pass; a missing one crash-loops the pod.
FLAGS = {
    "worker": ("--drain-timeout", "--metrics-port", "--address", "--namespace"),
    "workflowclient": ("--host", "--port", "--exec-dir", "--exec-timeout"),
}
# What `make images` passes as the REVISION build argument: `git rev-parse HEAD`.
IMAGE_REVISION = "0123456789abcdef0123456789abcdef01234567"


def write_revision_as_the_image_build_does(source: Path, revision: str) -> None:
    """Run the builder stage's own step that records the revision, in ``source``."""
    [step] = [
        run.value
        for run in Dockerfile.parse(DOCKERFILE).stage("builder").all("RUN")
        if REVISION_FILE in run.value
    ]
    command = step.split(" && ")[0]
    subprocess.run(["sh", "-c", command], cwd=source, env={"REVISION": revision}, check=True)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with only the project's wheel and its dependencies, as in the image."""
    work = tmp_path_factory.mktemp("wheel")
    # Build from a copy so the build leaves nothing in the shared work tree.
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src",
        source / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", REVISION_FILE),
    )
    write_revision_as_the_image_build_does(source, IMAGE_REVISION)
    dist = work / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = dist.glob("emco_migrate-*.whl")

    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # The dev venv's pip installs into the new venv: no pip inside it, as in a slim image.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return venv


def image_env(venv: Path, home: Path, **extra: str) -> dict[str, str]:
    """The image's environment (ENV in the Dockerfile), not the test runner's."""
    return {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(home),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def image_command(target: str, venv: Path, exec_dir: Path) -> list[str]:
    """ENTRYPOINT + CMD of ``target``, with this machine's paths and a free port."""
    dockerfile = Dockerfile.parse(DOCKERFILE)
    entrypoint = dockerfile.exec_form(target, "ENTRYPOINT") or []
    cmd = list(dockerfile.exec_form(target, "CMD") or [])
    assert entrypoint, f"{target} has no ENTRYPOINT"
    if "--exec-dir" in cmd:
        cmd[cmd.index("--exec-dir") + 1] = str(exec_dir)
    if "--port" in cmd:
        cmd[cmd.index("--port") + 1] = str(closed_port())
    if "--host" in cmd:
        cmd[cmd.index("--host") + 1] = "127.0.0.1"
    return [str(venv / "bin" / entrypoint[0]), *entrypoint[1:], *cmd]


@pytest.mark.parametrize("target", TARGETS)
def test_help(image_venv: Path, tmp_path: Path, target: str) -> None:
    dockerfile = Dockerfile.parse(DOCKERFILE)
    entrypoint = dockerfile.exec_form(target, "ENTRYPOINT") or []
    proc = subprocess.run(
        [str(image_venv / "bin" / entrypoint[0]), *entrypoint[1:], "--help"],
        env=image_env(image_venv, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage:")
    for flag in FLAGS[target]:
        assert flag in proc.stdout, f"{flag} missing from `{' '.join(entrypoint)} --help`"


@pytest.mark.parametrize(
    "command",
    [["emco-migrate", "--version"], ["emco-migrate", "worker", "--version"],
     ["emco-migrate", "http-server", "--version"], ["migrate_workflowclient", "--version"]],
)  # fmt: skip
def test_version_names_the_revision_the_image_was_built_from(
    image_venv: Path, tmp_path: Path, command: list[str]
) -> None:
    proc = subprocess.run(
        [str(image_venv / "bin" / command[0]), *command[1:]],
        env=image_env(image_venv, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{command[0]} {__version__} (revision {IMAGE_REVISION[:12]})\n"


@pytest.mark.parametrize("target", TARGETS)
def test_unreachable_temporal_is_one_clear_line(
    image_venv: Path, tmp_path: Path, target: str
) -> None:
    address = f"127.0.0.1:{closed_port()}"
    exec_dir = tmp_path / "opt-emco"
    exec_dir.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    proc = subprocess.run(
        image_command(target, image_venv, exec_dir),
        env=image_env(image_venv, home, TEMPORAL_ADDRESS=address, TEMPORAL_NAMESPACE="default"),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Temporal" in lines[0]
    assert address in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_compose_emulator_command_uses_real_flags(image_venv: Path, tmp_path: Path) -> None:
    """The compose file runs `emco-migrate emco-sim` from the workflow client image."""
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    sim = compose["services"]["emco-sim"]
    entrypoint, command = sim["entrypoint"], sim["command"]
    proc = subprocess.run(
        [str(image_venv / "bin" / entrypoint[0]), *entrypoint[1:], "--help"],
        env=image_env(image_venv, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for flag in (word for word in command if word.startswith("--")):
        assert flag in proc.stdout, f"{flag} missing from `{' '.join(entrypoint)} --help`"
