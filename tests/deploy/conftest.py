"""Fixtures for the deployment artifact checks: paths, the pinned Helm binary, rendering."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "build" / "docker" / "Dockerfile"
CHARTS = ROOT / "deployment" / "helm"
COMPOSE_FILE = ROOT / "deployment" / "docker" / "docker-compose.yml"
HELM = ROOT / ".tools" / "helm"
SKIP_HELM_VAR = "EMCO_MIGRATE_SKIP_HELM"


def pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def venv_tool(name: str) -> Path:
    """A console script installed next to the running interpreter (the dev venv)."""
    path = Path(sys.executable).parent / name
    if not path.is_file():
        found = shutil.which(name)
        if found is None:
            pytest.fail(f"{name} is not installed; run `make install` (it is a dev dependency)")
        path = Path(found)
    return path


@dataclass
class HelmResult:
    returncode: int
    stdout: str
    stderr: str

    def documents(self) -> list[dict[str, Any]]:
        assert self.returncode == 0, self.stderr
        return [d for d in yaml.safe_load_all(self.stdout) if d]


class Helm:
    """Runs the pinned Helm binary with its state kept out of the user's home."""

    def __init__(self, binary: Path, home: Path) -> None:
        self.binary = binary
        self.env = {
            **os.environ,
            "HELM_CACHE_HOME": str(home / "cache"),
            "HELM_CONFIG_HOME": str(home / "config"),
            "HELM_DATA_HOME": str(home / "data"),
            "KUBECONFIG": os.devnull,
        }

    def run(self, *args: str) -> HelmResult:
        proc = subprocess.run(
            [str(self.binary), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
            check=False,
        )
        return HelmResult(proc.returncode, proc.stdout, proc.stderr)

    def template(
        self,
        chart: str,
        release: str = "demo",
        namespace: str = "demo",
        values: Sequence[Path] = (),
        set_values: Sequence[str] = (),
    ) -> HelmResult:
        args = ["template", release, str(CHARTS / chart), "--namespace", namespace]
        for path in values:
            args += ["--values", str(path)]
        for item in set_values:
            args += ["--set", item]
        return self.run(*args)

    def lint(self, chart: str, values: Sequence[Path] = ()) -> HelmResult:
        args = ["lint", "--strict", str(CHARTS / chart)]
        for path in values:
            args += ["--values", str(path)]
        return self.run(*args)


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    """The Helm binary that `make helm` (tools/fetch-helm.sh) installs to .tools/helm.

    Missing Helm fails the run, so CI cannot pass without the chart checks; developers
    without npm can set EMCO_MIGRATE_SKIP_HELM=1 to skip them on purpose.
    """
    if os.environ.get(SKIP_HELM_VAR) == "1":
        pytest.skip(f"{SKIP_HELM_VAR}=1: Helm chart checks skipped on request")
    if not (HELM.is_file() and os.access(HELM, os.X_OK)):
        pytest.fail(
            f"{HELM.relative_to(ROOT)} is missing: run `make helm` (tools/fetch-helm.sh) first, "
            f"or set {SKIP_HELM_VAR}=1 to skip the Helm chart checks",
            pytrace=False,
        )
    return Helm(HELM, tmp_path_factory.mktemp("helm-home"))


@pytest.fixture(scope="session")
def render(helm: Helm) -> Callable[..., list[dict[str, Any]]]:
    """Render a chart and return its manifests; fails the test if rendering fails."""

    def _render(chart: str, **kwargs: Any) -> list[dict[str, Any]]:
        return helm.template(chart, **kwargs).documents()

    return _render
