"""Scenario 7's polling designs: one bench-only workflow each, waiting for one app to be Ready.

Every design asks the same question (one ``GET`` of the DIG status with a verification
poll's query, judged by the migration's own `ready_problem`) on the same schedule (first
after ``first_seconds``, then each wait ``backoff`` times longer, at most ``cap_seconds``),
and returns how many polls it made and when the one that saw Ready was answered:

* `HeartbeatPolling` (a): one activity loops poll + sleep and heartbeats, as VerifyMigration
  does today (`attempts.heartbeating`, the same 30 s heartbeat timeout);
* `TimerLoopPolling` (b1) and `TimerLoopLocalPolling` (b2): the workflow runs a one-poll
  activity (b1) or local activity (b2), then sleeps on a durable timer;
* `RetryPolling` (c): a one-poll activity fails, retryably, while the app is not Ready, and
  the activity's retry policy is the schedule, bounded by a schedule-to-close timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

with workflow.unsafe.imports_passed_through():
    import httpx

    from emco_migrate.emcomigrate.attempts import heartbeating
    from emco_migrate.emcomigrate.dig_status import DigStatus, ready_problem
    from emco_migrate.emcomigrate.options import VERIFY_HEARTBEAT_DEFAULT
    from emco_migrate.emcomigrate.types import ClusterRef

# One poll is one short GET; an attempt that takes longer than this is stuck.
POLL_TIMEOUT = timedelta(seconds=10)
NOT_READY = "BenchNotReady"


@dataclass(frozen=True)
class PollRequest:
    """Which app must be Ready on which cluster (and the status URL to ask), how to pace
    the polls, and how long to wait at most."""

    status_url: str
    app: str
    provider: str
    cluster: str
    first_seconds: float = 0.25
    backoff: float = 1.5
    cap_seconds: float = 2.0
    deadline_seconds: float = 600.0

    def next_wait(self, wait: float) -> float:
        """The wait after one of ``wait`` seconds."""
        return min(wait * self.backoff, self.cap_seconds)

    @property
    def retry_policy(self) -> RetryPolicy:
        """The same schedule as a retry policy (design c)."""
        return RetryPolicy(
            initial_interval=timedelta(seconds=self.first_seconds),
            backoff_coefficient=self.backoff,
            maximum_interval=timedelta(seconds=self.cap_seconds),
            maximum_attempts=0,
        )


@dataclass(frozen=True)
class PollOutcome:
    """How many polls a design made, and when (Unix seconds, the worker's clock) the poll
    that saw Ready had its answer."""

    polls: int
    ready_at: float


class PollActivities:
    """The designs' activities, on the worker's long-lived HTTP client."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def _ready_at(self, request: PollRequest) -> float | None:
        """One poll: when it was answered if the app is Ready, else None."""
        response = await self._http.get(request.status_url)
        answered = time.time()
        response.raise_for_status()
        status = DigStatus.parse(response.json())
        cluster = ClusterRef(request.provider, request.cluster)
        return answered if ready_problem(status, request.app, cluster) is None else None

    @activity.defn(name="BenchPollHeartbeating")
    async def poll_heartbeating(self, request: PollRequest) -> PollOutcome:
        """(a) Poll until Ready, sleeping between polls, heartbeating each poll."""
        polls = 0
        wait = request.first_seconds
        async with heartbeating({"polls": polls}) as beat:
            while True:
                polls += 1
                if (ready_at := await self._ready_at(request)) is not None:
                    return PollOutcome(polls, ready_at)
                beat({"polls": polls})
                await asyncio.sleep(wait)
                wait = request.next_wait(wait)

    @activity.defn(name="BenchPollOnce")
    async def poll_once(self, request: PollRequest) -> float | None:
        """(b) One poll: when it saw the app Ready, or None."""
        return await self._ready_at(request)

    @activity.defn(name="BenchPollOrRetry")
    async def poll_or_retry(self, request: PollRequest) -> PollOutcome:
        """(c) One poll; not Ready is a retryable failure, so the attempt that sees Ready is
        the number of polls. Benign: the SDK logs it at DEBUG and counts no failure."""
        if (ready_at := await self._ready_at(request)) is not None:
            return PollOutcome(activity.info().attempt, ready_at)
        raise ApplicationError(
            "not Ready yet", type=NOT_READY, category=ApplicationErrorCategory.BENIGN
        )


@workflow.defn(name="BenchPollHeartbeating")
class HeartbeatPolling:
    """(a) One heartbeating activity polls until Ready."""

    @workflow.run
    async def run(self, request: PollRequest) -> PollOutcome:
        return await workflow.execute_activity_method(
            PollActivities.poll_heartbeating,
            request,
            start_to_close_timeout=timedelta(seconds=request.deadline_seconds),
            heartbeat_timeout=VERIFY_HEARTBEAT_DEFAULT,
        )


async def _timer_loop(
    request: PollRequest, poll: Callable[[], Awaitable[float | None]]
) -> PollOutcome:
    """Poll, then sleep on a durable timer, until Ready or past the deadline."""
    deadline = workflow.now() + timedelta(seconds=request.deadline_seconds)
    polls = 0
    wait = request.first_seconds
    while True:
        polls += 1
        if (ready_at := await poll()) is not None:
            return PollOutcome(polls, ready_at)
        if workflow.now() >= deadline:
            raise ApplicationError(f"not Ready after {polls} polls", non_retryable=True)
        await workflow.sleep(wait)
        wait = request.next_wait(wait)


@workflow.defn(name="BenchPollTimerLoop")
class TimerLoopPolling:
    """(b1) One-poll activity, then a durable timer, in a loop in the workflow."""

    @workflow.run
    async def run(self, request: PollRequest) -> PollOutcome:
        async def poll() -> float | None:
            return await workflow.execute_activity_method(
                PollActivities.poll_once, request, start_to_close_timeout=POLL_TIMEOUT
            )

        return await _timer_loop(request, poll)


@workflow.defn(name="BenchPollTimerLoopLocal")
class TimerLoopLocalPolling:
    """(b2) As (b1) with a local activity: the poll runs inside the workflow task."""

    @workflow.run
    async def run(self, request: PollRequest) -> PollOutcome:
        async def poll() -> float | None:
            return await workflow.execute_local_activity_method(
                PollActivities.poll_once, request, start_to_close_timeout=POLL_TIMEOUT
            )

        return await _timer_loop(request, poll)


@workflow.defn(name="BenchPollRetries")
class RetryPolling:
    """(c) One-poll activity whose retry policy is the poll schedule."""

    @workflow.run
    async def run(self, request: PollRequest) -> PollOutcome:
        return await workflow.execute_activity_method(
            PollActivities.poll_or_retry,
            request,
            start_to_close_timeout=POLL_TIMEOUT,
            schedule_to_close_timeout=timedelta(seconds=request.deadline_seconds),
            retry_policy=request.retry_policy,
        )


POLLING_WORKFLOWS = (HeartbeatPolling, TimerLoopPolling, TimerLoopLocalPolling, RetryPolling)
