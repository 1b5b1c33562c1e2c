"""The worker chart makes the metrics endpoint reachable from Prometheus (--metrics-host)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import Helm

Render = Callable[..., list[dict[str, Any]]]


def worker_args(render: Render, *settings: str) -> list[str]:
    docs = render("worker", release="demo1", set_values=["metrics.enabled=true", *settings])
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    args: list[str] = container["args"]
    return args


def test_metrics_listen_on_every_interface_of_the_pod(render: Render) -> None:
    args = worker_args(render)
    assert args[args.index("--metrics-host") + 1] == "0.0.0.0"


def test_metrics_host_is_a_value(render: Render) -> None:
    args = worker_args(render, "metrics.host=::")
    assert args[args.index("--metrics-host") + 1] == "::"


def test_no_metrics_host_without_metrics(render: Render) -> None:
    docs = render("worker", release="demo1")
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    assert "--metrics-host" not in deployment["spec"]["template"]["spec"]["containers"][0]["args"]


@pytest.mark.parametrize("host", ["localhost", "", "0.0.0.0:9464", "256.0.0.1"])
def test_schema_refuses_a_metrics_host_that_is_not_an_ip_address(
    helm: Helm, tmp_path: Path, host: str
) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(f'metrics:\n  enabled: true\n  host: "{host}"\n')
    result = helm.template("worker", values=[values])
    assert result.returncode != 0
    assert "metrics/host" in result.stderr
