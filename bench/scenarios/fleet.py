"""Scenario 5: an evacuation of M DIGs at ``maxInFlight`` K, against single migrations at rest.

Both simulated clusters get a fixed rollout delay D (``readyDelaySeconds``, restored at the
end), so a migration waits for EMCO as it would for a real cluster. The M DIGs live in a
project of their own (``bench-fleet``), so the evacuation's discovery finds exactly them.
Each round, back to back:

1. **single migrations at rest**: S migrations of one DIG of the main fleet, one after the
   other on the otherwise idle stack, each timed from its ``POST /invoke`` to its verified
   result. Wall time minus D is our overhead.
2. **the evacuation**: started as EMCO starts one (``POST /invoke/evacuate_workflowclient``
   with ``maxInFlight`` K), waited for through its result (across its continue-as-new runs);
   every DIG must be reported moved. The next round evacuates the other cluster.

The round's ideal is ceil(M/K) times the median single migration of the same round;
efficiency = ideal / the evacuation's wall time. Each child's duration (start to close) and
the first child's start come from Temporal's visibility store (the children carry the
evacuation's ID as a search attribute); the EMCO requests (reads and writes, by arrival time)
from the emulator's meter, reset before the evacuation.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client

from bench.bodies import invoke_body
from bench.emco_setup import (
    SOURCE,
    TARGET,
    Cluster,
    Fleet,
    create_fleet,
    read_request_counts,
    reset_request_counts,
    set_cluster,
)
from bench.load import HttpPool
from bench.scenarios.migration import MigrationFailed, Migrator
from bench.stack import BenchStack
from bench.stats import RequestCounts, Round, Summary, median, percentile
from emco_migrate.emcomigrate import search_attributes as sa
from emco_migrate.emcomigrate.names import EVACUATE_WORKFLOW_CLIENT, WORKFLOW_NAME

FLEET_PROJECT = "bench-fleet"
VISIBILITY_TIMEOUT = 30.0
WARMUP_SINGLES = 1


@dataclass(frozen=True)
class FleetConfig:
    digs: int  # M
    max_in_flight: int  # K
    rollout_delay: float  # D, seconds
    singles: int  # S, single migrations per round
    rounds: int

    @property
    def waves(self) -> int:
        """ceil(M/K): how many single-migration times an ideal evacuation takes."""
        return math.ceil(self.digs / self.max_in_flight)


@dataclass(frozen=True)
class FleetRound:
    """One round: the single migrations and the evacuation that followed them."""

    singles: Round  # one latency per single migration
    evacuation: Round  # operations M, seconds the wall time, one latency per child
    first_child_seconds: float  # from the POST to the first child's start
    fill_seconds: float  # from the first child's start to the K-th's (the window filled)
    requests: RequestCounts  # during the evacuation
    waves: int

    @property
    def single_seconds(self) -> float:
        return median(list(self.singles.latencies))

    @property
    def ideal_seconds(self) -> float:
        return self.waves * self.single_seconds

    @property
    def efficiency(self) -> float:
        return self.ideal_seconds / self.evacuation.seconds


@dataclass(frozen=True)
class FleetResult:
    config: FleetConfig
    rounds: tuple[FleetRound, ...]

    @property
    def evacuation(self) -> Summary:
        """Per round: the evacuation's DIGs per second, child p50/p99, CPU per DIG."""
        return Summary(tuple(r.evacuation for r in self.rounds))

    @property
    def singles(self) -> Summary:
        return Summary(tuple(r.singles for r in self.rounds))

    @property
    def single_seconds(self) -> float:
        """The p50 of every single migration of the run."""
        return percentile([s for r in self.rounds for s in r.singles.latencies], 50)

    @property
    def overhead_ms(self) -> float:
        """p50 of (single migration wall time - rollout delay), in ms."""
        return (self.single_seconds - self.config.rollout_delay) * 1000

    @property
    def seconds(self) -> float:
        return median([r.evacuation.seconds for r in self.rounds])

    @property
    def ideal_seconds(self) -> float:
        return median([r.ideal_seconds for r in self.rounds])

    @property
    def efficiency(self) -> float:
        return median([r.efficiency for r in self.rounds])

    @property
    def first_child_seconds(self) -> float:
        return median([r.first_child_seconds for r in self.rounds])

    @property
    def fill_seconds(self) -> float:
        return median([r.fill_seconds for r in self.rounds])

    def requests(self, figure: str) -> float:
        """A request figure, median over rounds: ``per_dig``, ``mean`` (per second),
        ``peak1s`` or ``peak5s``."""
        values = []
        for r in self.rounds:
            counts, seconds = r.requests, r.evacuation.seconds
            values.append(
                {
                    "per_dig": counts.total / self.config.digs,
                    "mean": counts.total / seconds,
                    "peak1s": counts.peak_rate(1.0),
                    "peak5s": counts.peak_rate(5.0),
                }[figure]
            )
        return median(values)


async def run(stack: BenchStack, fleet: Fleet, config: FleetConfig) -> FleetResult:
    """Create the evacuation's DIGs, set the rollout delay, run the rounds, restore it."""
    client = await Client.connect(stack.temporal_address)
    await create_fleet(stack.emco_url, config.digs, project=FLEET_PROJECT)
    run_id = uuid.uuid4().hex[:8]
    rounds = []
    await _set_delay(stack.emco_url, config.rollout_delay)
    try:
        async with HttpPool(stack.invoke_url, 4) as http:
            migrator = Migrator(client, http, fleet)
            for n in range(WARMUP_SINGLES):
                _check(await migrator.migrate_all(fleet.digs[:1], f"single-warmup{n}"))
            for n in range(config.rounds):
                singles = await _singles(migrator, fleet, config.singles, f"single-r{n}")
                source, target = (SOURCE, TARGET) if n % 2 == 0 else (TARGET, SOURCE)
                evacuation, starts, requests = await _evacuate(
                    stack, client, http, config, source, target, f"bench-evacuate-{run_id}-r{n}"
                )
                first, fill = starts
                rounds.append(FleetRound(singles, evacuation, first, fill, requests, config.waves))
    finally:
        await _set_delay(stack.emco_url, None)
    return FleetResult(config, tuple(rounds))


async def _set_delay(emco_url: str, seconds: float | None) -> None:
    """Both clusters' rollout delay (None: back to the emulator's --ready-delay)."""
    for cluster in (SOURCE, TARGET):
        await set_cluster(emco_url, cluster, readyDelaySeconds=seconds)


async def _singles(migrator: Migrator, fleet: Fleet, count: int, tag: str) -> Round:
    """``count`` migrations of one DIG, one after the other; one latency each."""
    latencies: list[float] = []
    started = time.perf_counter()
    for i in range(count):
        one = _check(await migrator.migrate_all(fleet.digs[:1], f"{tag}-{i}"))
        latencies += one.latencies
    return Round(count, time.perf_counter() - started, tuple(latencies))


def _check(result: Round) -> Round:
    if result.errors:
        raise MigrationFailed("a single migration did not complete; see the worker log")
    return result


async def _evacuate(
    stack: BenchStack,
    client: Client,
    http: HttpPool,
    config: FleetConfig,
    source: Cluster,
    target: Cluster,
    evacuation_id: str,
) -> tuple[Round, tuple[float, float], RequestCounts]:
    """One evacuation of the fleet project from ``source`` to ``target``; its round, (first
    child's start after the POST, K-th child's start after the first's), its requests."""
    params = {
        "emcoURL": stack.emco_url,
        "clusterProvider": source.provider,
        "clusterName": source.name,
        "targetClusterProvider": target.provider,
        "targetClusterName": target.name,
        "projects": FLEET_PROJECT,
        "maxInFlight": str(config.max_in_flight),
        "failureBudget": "0",
    }
    body = invoke_body(evacuation_id, params, EVACUATE_WORKFLOW_CLIENT)
    await reset_request_counts(stack.emco_url)
    cpu_before = stack.cpu_seconds()
    posted = time.time()
    started = time.perf_counter()
    await http.request("POST", f"/invoke/{EVACUATE_WORKFLOW_CLIENT}", body, expect=(204,))
    report = await client.get_workflow_handle(evacuation_id).result()
    seconds = time.perf_counter() - started
    cpu_after = stack.cpu_seconds()
    requests = await read_request_counts(stack.emco_url)
    _check_report(evacuation_id, report, config.digs)
    children = await _children(client, evacuation_id, config.digs)
    starts = sorted(start for start, _ in children)
    fill = starts[min(config.max_in_flight, len(starts)) - 1] - starts[0]
    used = {k: cpu_after[k] - cpu_before[k] for k in cpu_after if k in cpu_before}
    durations = tuple(end - start for start, end in children)
    return Round(config.digs, seconds, durations, cpu=used), (starts[0] - posted, fill), requests


def _check_report(evacuation_id: str, report: Any, digs: int) -> None:
    """Raise unless the evacuation moved every one of the ``digs`` DIGs."""
    counts = report.get("counts", {}) if isinstance(report, dict) else {}
    if counts.get("moved") != digs:
        reasons = [
            f"{d.get('dig')}: {d.get('outcome')} {d.get('reason')}"
            for d in (report.get("digs", []) if isinstance(report, dict) else [])
            if d.get("outcome") != "moved"
        ]
        raise MigrationFailed(
            f"evacuation {evacuation_id} moved {counts.get('moved', 0)} of {digs} DIGs "
            f"(counts {counts}); first: {reasons[:1]}"
        )


async def _children(client: Client, evacuation_id: str, digs: int) -> list[tuple[float, float]]:
    """(start, close) in Unix seconds of each child migration, once visibility has them all."""
    query = f'{sa.EVACUATION_ID.name} = "{evacuation_id}" AND WorkflowType = "{WORKFLOW_NAME}"'
    deadline = time.monotonic() + VISIBILITY_TIMEOUT
    while True:
        found = [
            (w.start_time.timestamp(), w.close_time.timestamp())
            async for w in client.list_workflows(query)
            if w.close_time is not None
        ]
        if len(found) >= digs:
            return found
        if time.monotonic() > deadline:
            raise MigrationFailed(
                f"visibility lists {len(found)} of {digs} closed children of {evacuation_id} "
                f"after {VISIBILITY_TIMEOUT:g}s"
            )
        await asyncio.sleep(0.5)
