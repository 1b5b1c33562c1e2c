"""Benchmark sizes (full, quick, smoke) and the targets issue 6 sets."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bench.scenarios.emulator import EmulatorConfig
from bench.scenarios.memory import MemoryConfig
from bench.scenarios.migration import MigrationConfig
from bench.scenarios.start_path import StartPathConfig

# In the order they run; memory stops the bench worker, so it is last.
SCENARIOS = ("start", "migration", "emulator", "memory")

# Targets (issue 6).
START_RATIO_TARGET = 0.8  # b/a start throughput, at least
START_P99_TARGET_MS = 50.0  # b p99 at C=32, at most
MIGRATION_RATIO_TARGET = 0.7  # ours/floor migrations per second, at least
PARKED_KIB_TARGET = 150.0  # worker KiB per parked migration, at most


@dataclass(frozen=True)
class BenchConfig:
    """Everything one run measures."""

    name: str
    start: StartPathConfig
    migration: MigrationConfig
    memory: MemoryConfig
    emulator: EmulatorConfig
    scenarios: tuple[str, ...] = SCENARIOS

    @property
    def fleet_size(self) -> int:
        """DIGs the emulator needs: enough for scenarios 2 and 3."""
        sizes = [1]
        if "migration" in self.scenarios:
            sizes.append(self.migration.migrations)
        if "memory" in self.scenarios:
            sizes.append(self.memory.parked)
        return max(sizes)


FULL = BenchConfig(
    name="full",
    start=StartPathConfig(starts=500, concurrency=32, exec_starts=32, rounds=5),
    migration=MigrationConfig(migrations=200, rounds=3),
    memory=MemoryConfig(parked=500, rounds=3),
    emulator=EmulatorConfig(requests=1000, concurrency=32, rounds=3),
)

QUICK = BenchConfig(
    name="quick",
    start=StartPathConfig(starts=150, concurrency=32, exec_starts=6, rounds=4),
    migration=MigrationConfig(migrations=32, rounds=3),
    memory=MemoryConfig(parked=48, rounds=3),
    emulator=EmulatorConfig(requests=300, concurrency=32, rounds=3),
)

# Tiny sizes for the test suite: proves the harness works, says nothing about speed.
SMOKE = BenchConfig(
    name="smoke",
    start=StartPathConfig(starts=8, concurrency=4, exec_starts=2, rounds=1),
    migration=MigrationConfig(migrations=4, rounds=1),
    memory=MemoryConfig(parked=4, rounds=1),
    emulator=EmulatorConfig(requests=40, concurrency=4, rounds=1),
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
    scenarios: tuple[str, ...] | None = None,
) -> BenchConfig:
    """``config`` with the sizes given on the command line."""
    start, migration, memory, emulator = (
        config.start,
        config.migration,
        config.memory,
        config.emulator,
    )
    if rounds is not None:
        start = replace(start, rounds=rounds)
        migration = replace(migration, rounds=rounds)
        memory = replace(memory, rounds=rounds)
        emulator = replace(emulator, rounds=rounds)
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
    return replace(
        config,
        start=start,
        migration=migration,
        memory=memory,
        emulator=emulator,
        scenarios=scenarios or config.scenarios,
    )
