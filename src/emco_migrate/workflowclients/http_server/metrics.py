"""The HTTP server's Prometheus metrics (``GET /metrics``): invokes by workflow client and
status code, their latency, the build, and the process's own (CPU, memory, open files)."""

from __future__ import annotations

import platform

import temporalio
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.process_collector import ProcessCollector

from emco_migrate import __version__

INVOKES = "emco_migrate_http_invokes"  # exposed as emco_migrate_http_invokes_total
INVOKE_SECONDS = "emco_migrate_http_invoke_duration_seconds"
BUILD_INFO = "emco_migrate_build_info"
# A start is one Temporal call (milliseconds); an --exec-dir client may run for seconds.
INVOKE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# The `client` label of an invoke naming no client this server serves: caller-chosen names
# would make a series each.
UNKNOWN_CLIENT = "unknown"


class InvokeMetrics:
    """One app's metrics, in a registry of its own (tests build many apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}
        self._invokes = Counter(
            INVOKES,
            "POST /invoke requests by workflow client and status code",
            ["client", "code"],
            registry=self.registry,
        )
        self._seconds = Histogram(
            INVOKE_SECONDS,
            "Time to answer POST /invoke, by workflow client",
            ["client"],
            buckets=INVOKE_BUCKETS,
            registry=self.registry,
        )
        build = Gauge(
            BUILD_INFO,
            "emco-migrate build; the value is always 1",
            ["version", "temporalio", "python"],
            registry=self.registry,
        )
        build.labels(__version__, temporalio.__version__, platform.python_version()).set(1)
        ProcessCollector(registry=self.registry)

    def serving(self, clients: list[str]) -> None:
        """Create the series of ``clients``' successful starts at zero, so Prometheus sees
        their first start as an increase."""
        for client in clients:
            self._series(client, 204)

    def invoked(self, client: str, code: int, seconds: float) -> None:
        """One answered ``POST /invoke/{client}``."""
        invokes, duration = self._series(client, code)
        invokes.inc()
        duration.observe(seconds)

    def _series(self, client: str, code: int) -> tuple[Counter, Histogram]:
        # `labels()` validates and locks on every call; a client's series are looked up once.
        # Only served clients and UNKNOWN_CLIENT reach here, so this stays small.
        key = (client, code)
        found = self._children.get(key)
        if found is None:
            found = self._invokes.labels(client, str(code)), self._seconds.labels(client)
            self._children[key] = found
        return found

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The registry in the format the scraper asks for (text or OpenMetrics), and its
        content type."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type
