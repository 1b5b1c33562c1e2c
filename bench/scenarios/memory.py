"""Scenario 3: the worker's memory, idle and with K migrations parked in verification.

Runs the real `emco-migrate worker` alone (the bench worker is stopped for good, so this
scenario comes last), a fresh process per round, because an allocator keeps what a previous
round freed. Each round: a warm-up batch of migrations, the worker's RSS at rest; then both
simulated clusters are set ``neverReady`` and K migrations are invoked, so each one updates
its DIG and then waits in VerifyMigration for an app that never becomes Ready; once all of
them are there, the RSS again. ``(parked - idle) / K`` is the cost of one parked migration.
Then the clusters turn Ready and every migration must complete, verified, before the worker
is stopped.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psutil
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client

from bench.emco_setup import CLUSTERS, Cluster, Fleet, set_cluster
from bench.load import HttpPool
from bench.scenarios.migration import MAX_CONNECTIONS, Migrator
from bench.stack import BenchStack
from bench.stats import median
from emco_migrate.emcomigrate.names import ACTIVITY_VERIFY

PARK_TIMEOUT = 300.0  # at least; a larger K gets PARK_SECONDS_EACH per migration
PARK_SECONDS_EACH = 0.5
DESCRIBE_CONCURRENCY = 32
RSS_SAMPLES = 3
WARMUP_MIGRATIONS = 5


class ParkingFailed(Exception):
    """The migrations did not all reach verification in time."""


@dataclass(frozen=True)
class MemoryConfig:
    parked: int
    rounds: int


@dataclass(frozen=True)
class MemoryRound:
    idle_kib: float
    parked_kib: float
    parked: int
    verifying: int  # VerifyMigration running on the worker (the rest wait for a slot)

    @property
    def kib_per_migration(self) -> float:
        return (self.parked_kib - self.idle_kib) / self.parked


@dataclass(frozen=True)
class MemoryResult:
    config: MemoryConfig
    rounds: tuple[MemoryRound, ...]

    @property
    def idle_kib(self) -> float:
        return median([r.idle_kib for r in self.rounds])

    @property
    def parked_kib(self) -> float:
        return median([r.parked_kib for r in self.rounds])

    @property
    def kib_per_migration(self) -> float:
        return median([r.kib_per_migration for r in self.rounds])

    @property
    def verifying(self) -> float:
        return median([float(r.verifying) for r in self.rounds])


async def rss_kib(process: psutil.Process) -> float:
    """The median of a few RSS samples, in KiB."""
    samples: list[float] = []
    for _ in range(RSS_SAMPLES):
        samples.append(float(process.memory_info().rss) / 1024)
        await asyncio.sleep(0.1)
    return statistics.median(samples)


async def run(stack: BenchStack, fleet: Fleet, config: MemoryConfig) -> MemoryResult:
    """Measure each round on a fresh `emco-migrate worker` (so this scenario runs last: the
    bench worker stays stopped)."""
    stack.stop_process("bench-worker")
    try:
        client = await Client.connect(stack.temporal_address)
        rounds = []
        for n in range(config.rounds):
            stack.start_product_worker()
            try:
                rounds.append(await _round(stack, client, fleet, config.parked, f"memory-r{n}"))
            finally:
                stack.stop_process("worker")
        return MemoryResult(config, tuple(rounds))
    finally:
        await _set_ready(fleet.emco_url, ready=True)


async def _round(
    stack: BenchStack, client: Client, fleet: Fleet, parked: int, tag: str
) -> MemoryRound:
    worker = psutil.Process(stack.pid("worker"))
    digs = fleet.digs[:parked]
    async with HttpPool(stack.invoke_url, min(MAX_CONNECTIONS, len(digs))) as http:
        migrator = Migrator(client, http, fleet)
        warmup = await migrator.migrate_all(digs[:WARMUP_MIGRATIONS], f"{tag}-warmup")
        if warmup.errors:
            raise ParkingFailed(f"{warmup.errors} warm-up migration(s) failed")
        idle = await rss_kib(worker)
        await _set_ready(fleet.emco_url, ready=False)
        ids = await asyncio.gather(*(migrator.invoke(d, tag) for d in digs))
        verifying = await _wait_parked(client, ids, stack)
        busy = await rss_kib(worker)
        await _set_ready(fleet.emco_url, ready=True)
        results = await asyncio.gather(
            *(migrator.completed(d, i) for d, i in zip(digs, ids, strict=True)),
            return_exceptions=True,
        )
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise ParkingFailed(f"{len(failures)} parked migration(s) failed: {failures[0]}")
    return MemoryRound(idle, busy, len(digs), verifying)


async def _set_ready(emco_url: str, *, ready: bool) -> None:
    for provider, name in CLUSTERS:
        await set_cluster(emco_url, Cluster(provider, name), neverReady=not ready)


async def _wait_parked(client: Client, workflow_ids: Sequence[str], stack: BenchStack) -> int:
    """Wait until every workflow has VerifyMigration pending; how many are running."""
    lanes = asyncio.Semaphore(DESCRIBE_CONCURRENCY)

    async def state(workflow_id: str) -> PendingActivityState.ValueType | None:
        async with lanes:
            described = await client.get_workflow_handle(workflow_id).describe()
        for pending in described.raw_description.pending_activities:
            if pending.activity_type.name == ACTIVITY_VERIFY:
                return pending.state
        return None

    timeout = max(PARK_TIMEOUT, PARK_SECONDS_EACH * len(workflow_ids))
    deadline = time.monotonic() + timeout
    while True:
        states = await asyncio.gather(*(state(i) for i in workflow_ids))
        waiting = sum(s is None for s in states)
        if waiting == 0:
            return sum(s == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED for s in states)
        if (reason := stack.dead()) is not None:
            raise ParkingFailed(f"a process died: {reason}")
        if time.monotonic() > deadline:
            raise ParkingFailed(
                f"{waiting} of {len(workflow_ids)} migrations not in verification "
                f"after {timeout:g}s"
            )
        await asyncio.sleep(0.5)
