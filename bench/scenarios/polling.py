"""Scenario 7: verification polling designs, K workflows parked for P seconds each.

Each variant (a design of `bench.pollers` at a poll cap) starts K workflows, each waiting
for ``app1`` of one DIG of the main fleet to be Ready where it runs, with both simulated
clusters ``neverReady``; once the K-th has started, the parked period P is measured: CPU
seconds by process, the EMCO requests (one per poll), and the bench worker's activity and
local-activity task slots in use (its Prometheus gauges, sampled every second). Then the
clusters turn Ready, and every workflow must complete: the time from the release to each
result says how fast a design notices Ready. Last, a sample of the histories: events,
bytes (the server's own count, against its 50 MB limit) and workflow tasks per workflow.

Variants run back to back in an order that rotates from round to round; before each round
the idle stack's CPU is measured for a few seconds, so the figures can be read against it.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from bench.emco_setup import (
    APP,
    CLUSTERS,
    BenchDig,
    Cluster,
    Fleet,
    read_request_counts,
    reset_request_counts,
    set_cluster,
)
from bench.pollers import (
    HeartbeatPolling,
    PollOutcome,
    PollRequest,
    RetryPolling,
    TimerLoopLocalPolling,
    TimerLoopPolling,
)
from bench.stack import BenchStack
from bench.stats import RequestCounts, median, percentile
from emco_migrate.emcomigrate.names import TASK_QUEUE
from emco_migrate.worker.main import DEFAULT_MAX_CONCURRENT_ACTIVITIES

START_CONCURRENCY = 32
HISTORY_SAMPLE = 10
SLOT_SAMPLE_SECONDS = 1.0
IDLE_SECONDS = 5.0
# The slack past P before a parked workflow gives up: enough for the release on a busy stack.
DEADLINE_MARGIN_SECONDS = 300.0
RELEASE_TIMEOUT = 120.0
SLOTS_METRIC = "temporal_worker_task_slots_used"
CPU_PROCESSES = (("temporal", "temporal"), ("worker", "bench-worker"), ("emulator", "emco-sim"))


# A design's workflow run method.
PollingRun = Callable[[Any, PollRequest], Awaitable[PollOutcome]]


class PollingFailed(Exception):
    """A parked workflow did not complete as the design should."""


class Design(StrEnum):
    """The polling designs compared (issue 14, item 2)."""

    HEARTBEAT = "a"
    TIMER_ACTIVITY = "b1"
    TIMER_LOCAL = "b2"
    RETRIES = "c"

    @property
    def label(self) -> str:
        return DESIGN_LABELS[self]

    @property
    def workflow(self) -> PollingRun:
        return DESIGN_WORKFLOWS[self]


DESIGN_LABELS = {
    Design.HEARTBEAT: "a. heartbeating activity",
    Design.TIMER_ACTIVITY: "b1. timer loop + activity",
    Design.TIMER_LOCAL: "b2. timer loop + local act.",
    Design.RETRIES: "c. activity retries",
}
DESIGN_WORKFLOWS: dict[Design, PollingRun] = {
    Design.HEARTBEAT: HeartbeatPolling.run,
    Design.TIMER_ACTIVITY: TimerLoopPolling.run,
    Design.TIMER_LOCAL: TimerLoopLocalPolling.run,
    Design.RETRIES: RetryPolling.run,
}


@dataclass(frozen=True)
class PollingConfig:
    parked: int  # K
    parked_seconds: float  # P
    caps: tuple[float, ...]  # the polls' longest interval, seconds; each cap is a variant
    rounds: int
    designs: tuple[Design, ...] = tuple(Design)

    @property
    def variants(self) -> list[tuple[Design, float]]:
        return [(d, cap) for cap in self.caps for d in self.designs]


@dataclass(frozen=True)
class History:
    """One sampled workflow's history at its end."""

    events: int
    size_bytes: int
    workflow_tasks: int
    polls: int


@dataclass(frozen=True)
class PollingRound:
    """One design at one cap in one round."""

    design: Design
    cap: float
    parked: int
    seconds: float  # the parked period as measured
    cpu: dict[str, float]  # CPU seconds by process during it
    requests: RequestCounts  # EMCO requests during it: one per poll
    activity_slots: tuple[int, ...]  # samples during it
    local_slots: tuple[int, ...]
    seen: tuple[float, ...]  # release to the poll that saw Ready, each workflow, seconds
    done: tuple[float, ...]  # release to its result
    histories: tuple[History, ...]

    @property
    def polls(self) -> int:
        return self.requests.total

    def cpu_ms_per_poll(self, process: str) -> float:
        if process not in self.cpu or not self.polls:
            return math.nan
        return self.cpu[process] * 1000 / self.polls

    def cpu_ms_per_parked_second(self, process: str) -> float:
        if process not in self.cpu or self.seconds <= 0:
            return math.nan
        return self.cpu[process] * 1000 / (self.parked * self.seconds)

    def history(self, figure: str) -> float:
        values = [float(getattr(h, figure)) for h in self.histories]
        return statistics.fmean(values) if values else math.nan

    @property
    def events_per_poll(self) -> float:
        polls = self.history("polls")
        return self.history("events") / polls if polls else math.nan


@dataclass(frozen=True)
class PollingVariant:
    """One design at one cap over the rounds: the median of each per-round figure."""

    design: Design
    cap: float
    rounds: tuple[PollingRound, ...]

    @property
    def label(self) -> str:
        return f"{self.design.label}, cap {self.cap:g} s"

    def figure(self, pick: str, *args: str) -> float:
        """The median over rounds of a `PollingRound` property or method."""
        values = []
        for r in self.rounds:
            value = getattr(r, pick)
            values.append(float(value(*args) if callable(value) else value))
        return median(values)

    @property
    def requests_per_second(self) -> float:
        return median([r.requests.total / r.seconds for r in self.rounds])

    @property
    def polls_per_workflow(self) -> float:
        return median([r.polls / r.parked for r in self.rounds])

    def slots(self, local: bool, pct: float) -> float:
        return median(
            [percentile(r.local_slots if local else r.activity_slots, pct) for r in self.rounds]
        )

    def release(self, pct: float, figure: str = "done") -> float:
        """A percentile of the time from the release to the Ready poll (``seen``), to the
        result (``done``), or from the one to the other (``lag``), in seconds."""

        def samples(r: PollingRound) -> Sequence[float]:
            if figure == "lag":
                return [d - s for s, d in zip(r.seen, r.done, strict=True)]
            return r.seen if figure == "seen" else r.done

        return median([percentile(samples(r), pct) for r in self.rounds])


@dataclass(frozen=True)
class PollingResult:
    config: PollingConfig
    variants: tuple[PollingVariant, ...]
    idle_cpu_ms_per_second: dict[str, float]  # the stack at rest, median over rounds
    max_concurrent_activities: int


async def run(stack: BenchStack, fleet: Fleet, config: PollingConfig) -> PollingResult:
    """Per round: the idle stack, then every variant, in an order rotating by round."""
    client = await Client.connect(stack.temporal_address)
    digs = fleet.digs[: config.parked]
    variants = config.variants
    found: dict[tuple[Design, float], list[PollingRound]] = {v: [] for v in variants}
    idle: list[dict[str, float]] = []
    run_id = uuid.uuid4().hex[:8]
    try:
        async with httpx.AsyncClient(timeout=10.0) as http:
            for n in range(config.rounds):
                idle.append(await _idle_cpu(stack))
                turn = n % len(variants)
                for design, cap in variants[turn:] + variants[:turn]:
                    tag = f"{run_id}-r{n}-{design}-{cap:g}"
                    found[(design, cap)].append(
                        await _round(stack, client, http, fleet, digs, design, cap, config, tag)
                    )
    finally:
        await _set_ready(fleet.emco_url, ready=True)
    idle_ms = {
        header: median([i.get(process, math.nan) for i in idle])
        for header, process in CPU_PROCESSES
    }
    return PollingResult(
        config,
        tuple(PollingVariant(d, cap, tuple(found[(d, cap)])) for d, cap in variants),
        idle_ms,
        DEFAULT_MAX_CONCURRENT_ACTIVITIES,
    )


async def _idle_cpu(stack: BenchStack) -> dict[str, float]:
    """CPU milliseconds per second each process uses with nothing to do."""
    before, started = stack.cpu_seconds(), time.perf_counter()
    await asyncio.sleep(IDLE_SECONDS)
    after, seconds = stack.cpu_seconds(), time.perf_counter() - started
    return {k: (after[k] - before[k]) * 1000 / seconds for k in after if k in before}


def _request(fleet: Fleet, dig: BenchDig, cap: float, config: PollingConfig) -> PollRequest:
    where = fleet.location[dig.name]
    return PollRequest(
        status_url=fleet.emco_url + dig.status_target(where),
        app=APP,
        provider=where.provider,
        cluster=where.name,
        cap_seconds=cap,
        deadline_seconds=config.parked_seconds + DEADLINE_MARGIN_SECONDS,
    )


async def _round(
    stack: BenchStack,
    client: Client,
    http: httpx.AsyncClient,
    fleet: Fleet,
    digs: Sequence[BenchDig],
    design: Design,
    cap: float,
    config: PollingConfig,
    tag: str,
) -> PollingRound:
    await _set_ready(fleet.emco_url, ready=False)
    lanes = asyncio.Semaphore(START_CONCURRENCY)
    # Starts spread over one cap, so the workflows poll out of phase, as verifications
    # started at random times do (otherwise the release would find them all polling in step).
    first = time.perf_counter()

    async def start(n: int, dig: BenchDig) -> WorkflowHandle[Any, PollOutcome]:
        await asyncio.sleep(max(0.0, first + n * cap / len(digs) - time.perf_counter()))
        async with lanes:
            return await client.start_workflow(
                design.workflow,
                _request(fleet, dig, cap, config),
                id=f"bench-poll-{tag}-{dig.name}",
                task_queue=TASK_QUEUE,
            )

    handles = await asyncio.gather(*(start(n, d) for n, d in enumerate(digs)))

    # The parked period.
    await reset_request_counts(fleet.emco_url)
    cpu_before, started = stack.cpu_seconds(), time.perf_counter()
    activity_slots: list[int] = []
    local_slots: list[int] = []
    while (left := config.parked_seconds - (time.perf_counter() - started)) > 0:
        await asyncio.sleep(min(SLOT_SAMPLE_SECONDS, left))
        slots = await _slots_in_use(http, stack.worker_metrics_url)
        activity_slots.append(slots.get("ActivityWorker", 0))
        local_slots.append(slots.get("LocalActivityWorker", 0))
        if (reason := stack.dead()) is not None:
            raise PollingFailed(f"a process died: {reason}")
    cpu_after, seconds = stack.cpu_seconds(), time.perf_counter() - started
    requests = await read_request_counts(fleet.emco_url)
    cpu = {k: cpu_after[k] - cpu_before[k] for k in cpu_after if k in cpu_before}

    # The release: every workflow must notice Ready and complete.
    released = time.time()
    await _set_ready(fleet.emco_url, ready=True)

    async def done(handle: WorkflowHandle[Any, PollOutcome]) -> tuple[float, float]:
        outcome = await handle.result()
        return outcome.ready_at - released, time.time() - released

    try:
        latencies = await asyncio.wait_for(
            asyncio.gather(*(done(h) for h in handles)), RELEASE_TIMEOUT
        )
    except TimeoutError:
        raise PollingFailed(
            f"{design.label}: not all {len(handles)} workflows completed within "
            f"{RELEASE_TIMEOUT:g}s of the release"
        ) from None
    step = max(1, len(handles) // HISTORY_SAMPLE)
    histories = await asyncio.gather(*(_history(h) for h in handles[::step][:HISTORY_SAMPLE]))
    return PollingRound(
        design=design,
        cap=cap,
        parked=len(handles),
        seconds=seconds,
        cpu=cpu,
        requests=requests,
        activity_slots=tuple(activity_slots),
        local_slots=tuple(local_slots),
        seen=tuple(s for s, _ in latencies),
        done=tuple(d for _, d in latencies),
        histories=tuple(histories),
    )


async def _history(handle: WorkflowHandle[Any, PollOutcome]) -> History:
    described = await handle.describe()
    info = described.raw_description.workflow_execution_info
    history = await handle.fetch_history()
    completed = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    tasks = sum(e.event_type == completed for e in history.events)
    return History(
        events=info.history_length,
        size_bytes=info.history_size_bytes,
        workflow_tasks=tasks,
        polls=(await handle.result()).polls,
    )


async def _slots_in_use(http: httpx.AsyncClient, metrics_url: str) -> dict[str, int]:
    """The worker's task slots in use by worker type (ActivityWorker, LocalActivityWorker,
    WorkflowWorker), from its Prometheus gauges."""
    response = await http.get(metrics_url)
    response.raise_for_status()
    used: dict[str, int] = {}
    for line in response.text.splitlines():
        if not line.startswith(SLOTS_METRIC + "{") or f'task_queue="{TASK_QUEUE}"' not in line:
            continue
        labels, _, value = line.rpartition(" ")
        kind = labels.split('worker_type="', 1)[1].split('"', 1)[0]
        used[kind] = used.get(kind, 0) + round(float(value))
    return used


async def _set_ready(emco_url: str, *, ready: bool) -> None:
    for provider, name in CLUSTERS:
        await set_cluster(emco_url, Cluster(provider, name), neverReady=not ready)
