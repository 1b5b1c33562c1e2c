"""Benchmark sizes (full, quick, smoke) and the targets (issues 6 and 14)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bench.scenarios.emulator import EmulatorConfig
from bench.scenarios.fleet import FleetConfig
from bench.scenarios.http_client import HttpClientConfig
from bench.scenarios.memory import MemoryConfig
from bench.scenarios.migration import MigrationConfig
from bench.scenarios.polling import PollingConfig
from bench.scenarios.start_path import StartPathConfig

# In the order they run; memory stops the bench worker, so it is last.
SCENARIOS = ("start", "migration", "emulator", "fleet", "http", "polling", "memory")

# Targets (issues 6 and 14).
START_RATIO_TARGET = 0.9  # b/a start throughput, at least
# b p99 over the floor's own p99 at C=32, at most: the dev server bounds the floor's p99
# (~200 ms here), so an absolute figure says nothing about the HTTP server.
START_P99_RATIO_TARGET = 1.25
MIGRATION_RATIO_TARGET = 0.7  # ours/floor migrations per second, at least
MIGRATION_RATIO_EXPLAIN = 0.8  # below this the run notes what bounds the ratio
REQUESTS_PER_MIGRATION_TARGET = 8.0  # EMCO requests per verified one-app migration, at most
EVACUATION_EFFICIENCY_TARGET = 0.8  # ideal / actual at M=500, K=50, at least
OVERHEAD_MS_TARGET = 300.0  # single migration's wall time minus rollout delay, p50, at most
PARKED_KIB_TARGET = 100.0  # worker KiB per parked migration at K=1000, at most


@dataclass(frozen=True)
class BenchConfig:
    """Everything one run measures."""

    name: str
    start: StartPathConfig
    migration: MigrationConfig
    memory: MemoryConfig
    emulator: EmulatorConfig
    fleet: FleetConfig
    polling: PollingConfig
    http: HttpClientConfig
    scenarios: tuple[str, ...] = SCENARIOS

    @property
    def fleet_size(self) -> int:
        """DIGs the main fleet needs: enough for scenarios 2, 3 and 7 (scenario 5 creates its
        own)."""
        sizes = [1]
        if "migration" in self.scenarios:
            sizes.append(self.migration.migrations)
        if "memory" in self.scenarios:
            sizes.append(self.memory.parked)
        if "polling" in self.scenarios:
            sizes.append(self.polling.parked)
        return max(sizes)


FULL = BenchConfig(
    name="full",
    start=StartPathConfig(starts=500, concurrency=32, exec_starts=32, rounds=5),
    migration=MigrationConfig(migrations=200, rounds=3),
    # Two rounds: a round of K=1000 parks for minutes, and rounds agree within a few KiB.
    memory=MemoryConfig(parked=1000, rounds=2),
    emulator=EmulatorConfig(requests=1000, concurrency=32, rounds=3),
    fleet=FleetConfig(digs=500, max_in_flight=50, rollout_delay=2.0, singles=3, rounds=2),
    # One round: eight variants of 30 s parked each; the designs differ by factors, not by rounds.
    polling=PollingConfig(parked=300, parked_seconds=30.0, caps=(2.0, 10.0), rounds=1),
    http=HttpClientConfig(requests=2000, tasks=200, connections=8, rounds=3),
)

QUICK = BenchConfig(
    name="quick",
    start=StartPathConfig(starts=150, concurrency=32, exec_starts=6, rounds=4),
    migration=MigrationConfig(migrations=32, rounds=3),
    memory=MemoryConfig(parked=48, rounds=3),
    emulator=EmulatorConfig(requests=300, concurrency=32, rounds=3),
    fleet=FleetConfig(digs=60, max_in_flight=50, rollout_delay=2.0, singles=3, rounds=1),
    polling=PollingConfig(parked=40, parked_seconds=20.0, caps=(2.0,), rounds=1),
    http=HttpClientConfig(requests=400, tasks=200, connections=8, rounds=3),
)

# Tiny sizes for the test suite: proves the harness works, says nothing about speed.
SMOKE = BenchConfig(
    name="smoke",
    start=StartPathConfig(starts=8, concurrency=4, exec_starts=2, rounds=1),
    migration=MigrationConfig(migrations=4, rounds=1),
    memory=MemoryConfig(parked=4, rounds=1),
    emulator=EmulatorConfig(requests=40, concurrency=4, rounds=1),
    fleet=FleetConfig(digs=4, max_in_flight=2, rollout_delay=0.5, singles=1, rounds=1),
    polling=PollingConfig(parked=4, parked_seconds=2.0, caps=(2.0,), rounds=1),
    http=HttpClientConfig(requests=30, tasks=10, connections=8, rounds=1),
)

PRESETS = {c.name: c for c in (FULL, QUICK, SMOKE)}


def with_overrides(
    config: BenchConfig,
    *,
    rounds: int | None = None,
    starts: int | None = None,
    concurrency: int | None = None,
    exec_starts: int | None = None,
    migrations: int | None = None,
    parked: int | None = None,
    fleet_digs: int | None = None,
    max_in_flight: int | None = None,
    rollout_delay: float | None = None,
    poll_workflows: int | None = None,
    poll_seconds: float | None = None,
    poll_caps: tuple[float, ...] | None = None,
    scenarios: tuple[str, ...] | None = None,
) -> BenchConfig:
    """``config`` with the sizes given on the command line."""
    start, migration, memory, emulator, fleet, http, polling = (
        config.start,
        config.migration,
        config.memory,
        config.emulator,
        config.fleet,
        config.http,
        config.polling,
    )
    if rounds is not None:
        start = replace(start, rounds=rounds)
        migration = replace(migration, rounds=rounds)
        memory = replace(memory, rounds=rounds)
        emulator = replace(emulator, rounds=rounds)
        fleet = replace(fleet, rounds=rounds)
        http = replace(http, rounds=rounds)
        polling = replace(polling, rounds=rounds)
    if starts is not None:
        start = replace(start, starts=starts)
    if concurrency is not None:
        start = replace(start, concurrency=concurrency)
        emulator = replace(emulator, concurrency=concurrency)
    if exec_starts is not None:
        start = replace(start, exec_starts=exec_starts)
    if migrations is not None:
        migration = replace(migration, migrations=migrations)
    if parked is not None:
        memory = replace(memory, parked=parked)
    if fleet_digs is not None:
        fleet = replace(fleet, digs=fleet_digs)
    if max_in_flight is not None:
        fleet = replace(fleet, max_in_flight=max_in_flight)
    if rollout_delay is not None:
        fleet = replace(fleet, rollout_delay=rollout_delay)
    if poll_workflows is not None:
        polling = replace(polling, parked=poll_workflows)
    if poll_seconds is not None:
        polling = replace(polling, parked_seconds=poll_seconds)
    if poll_caps is not None:
        polling = replace(polling, caps=poll_caps)
    return replace(
        config,
        start=start,
        migration=migration,
        memory=memory,
        emulator=emulator,
        fleet=fleet,
        polling=polling,
        http=http,
        scenarios=scenarios or config.scenarios,
    )
