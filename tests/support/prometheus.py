"""A real Prometheus server (Debian's build in .tools/, `make prometheus`) scraping test
processes on loopback every second, queried through its HTTP API."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from emco_migrate.devstack.processes import ManagedProcess, free_port, http_ok, wait_until

TOOLS = Path(__file__).parents[2] / ".tools"
PROMETHEUS = TOOLS / "prometheus"
PROMTOOL = TOOLS / "promtool"
SCRAPE_SECONDS = 1


def tools() -> tuple[Path, Path]:
    """prometheus and promtool, or the test fails saying how to get them."""
    missing = [str(p) for p in (PROMETHEUS, PROMTOOL) if not p.is_file()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run `make prometheus`")
    return PROMETHEUS, PROMTOOL


@dataclass(frozen=True)
class Sample:
    """One series of an instant query's answer."""

    labels: dict[str, str]
    value: float

    @property
    def is_number(self) -> bool:
        return not math.isnan(self.value)


@dataclass
class Prometheus:
    """A running server: its URL, and queries through /api/v1."""

    url: str
    process: ManagedProcess

    def _get(self, path: str, **params: str) -> Any:
        response = httpx.get(f"{self.url}{path}", params=params, timeout=10.0)
        body = response.json()
        assert body.get("status") == "success", f"{path} {params}: {response.text[:500]}"
        return body["data"]

    def query(self, expr: str) -> list[Sample]:
        """The instant query's answer now (a scalar is one sample without labels)."""
        data = self._get("/api/v1/query", query=expr)
        if data["resultType"] == "scalar":
            return [Sample({}, float(data["result"][1]))]
        assert data["resultType"] == "vector", f"{expr}: {data['resultType']}"
        return [Sample(r["metric"], float(r["value"][1])) for r in data["result"]]

    def value(self, expr: str) -> float | None:
        """The single sample's value, or None when the query returns nothing."""
        samples = self.query(expr)
        assert len(samples) <= 1, f"{expr} returned {len(samples)} series"
        return samples[0].value if samples else None

    def rules(self) -> list[dict[str, Any]]:
        """Every loaded rule with its health and, for alerts, its state."""
        groups = self._get("/api/v1/rules")["groups"]
        return [rule for group in groups for rule in group["rules"]]

    def jobs_up(self) -> set[str]:
        """The jobs whose every target answered its last scrape."""
        targets = self._get("/api/v1/targets")["activeTargets"]
        jobs = {t["labels"]["job"] for t in targets}
        down = {t["labels"]["job"] for t in targets if t["health"] != "up"}
        return jobs - down


@contextmanager
def running_prometheus(
    workdir: Path, jobs: Mapping[str, Sequence[str]], rule_files: Sequence[Path] = ()
) -> Iterator[Prometheus]:
    """Prometheus scraping each job's ``host:port`` targets (``/metrics``) every second and
    evaluating ``rule_files`` as often; stopped at the end."""
    prometheus, _ = tools()
    config = {
        "global": {
            "scrape_interval": f"{SCRAPE_SECONDS}s",
            "scrape_timeout": f"{SCRAPE_SECONDS}s",
            "evaluation_interval": f"{SCRAPE_SECONDS}s",
        },
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": list(targets)}]}
            for job, targets in jobs.items()
        ],
    }
    config_file = workdir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    port = free_port()
    process = ManagedProcess(
        "prometheus",
        [
            str(prometheus),
            f"--config.file={config_file}",
            f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        log_path=workdir / "prometheus.log",
    )
    process.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: http_ok(f"{url}/-/ready"),
            timeout=30,
            what="prometheus",
            alive=process.exit_reason,
        )
        yield Prometheus(url, process)
    finally:
        process.stop()


def describe(samples: Sequence[Sample]) -> str:
    """Samples on one line, for assertion messages."""
    return json.dumps([{**s.labels, "value": s.value} for s in samples])[:800]
