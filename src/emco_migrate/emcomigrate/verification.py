"""Polling EMCO until an app is Ready where it should be and gone where it should not.

EMCO's DIG status answers only for the context it is asked about, so a poll reads the
current context once (``status=ready``: deployed and ready status together) and the replaced
one when it matters: the context of the expected revision is Instantiated with no Failed
resource; each app is Ready on each wanted cluster with at least one resource and Available
connectivity; clusters it must leave no longer list it, and the replaced context reached
Updated (its resources deleted), which, once seen, later polls take as known. Each poll
also notes, per app, whether any cluster has it Ready (a wanted one, another of the current
context, or one of the context the update replaced), from which `interruption.Tally`
measures how long none had it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from temporalio.exceptions import ApplicationError

from emco_migrate.emcomigrate.dig_status import (
    DigStatus,
    failed_resources,
    ready_problem,
)
from emco_migrate.emcomigrate.emco_client import EmcoClient
from emco_migrate.emcomigrate.error_types import ErrorType
from emco_migrate.emcomigrate.interruption import Tally
from emco_migrate.emcomigrate.messages import VerifyRequest, VerifyResult
from emco_migrate.emcomigrate.metrics import PollResult, verification_poll
from emco_migrate.wire.emco import DeployedStatus, DigState

FIRST_POLL_SECONDS = 0.25
BACKOFF = 1.5
MAX_POLL_SECONDS = 2.0
# Once backed off, each wait is MAX_POLL_SECONDS +- this share, drawn per wait: verifications
# started together (an evacuation's window, a fleet's rollout) drift apart instead of polling
# EMCO in the same instant every 2 s. The ramp before it stays exact, so a rollout that is
# Ready within a second or two is seen as soon as the fixed schedule allows.
JITTER = 0.25


def poll_waits(rng: random.Random | None = None) -> Iterator[float]:
    """The waits between polls: 0.25 s, backing off x1.5 up to MAX_POLL_SECONDS, then
    MAX_POLL_SECONDS with jitter, forever (the caller bounds them by its deadline)."""
    draw = rng or random.Random()
    interval = FIRST_POLL_SECONDS
    while interval < MAX_POLL_SECONDS:
        yield interval
        interval *= BACKOFF
    while True:
        yield MAX_POLL_SECONDS * draw.uniform(1 - JITTER, 1 + JITTER)


def _fail(message: str) -> ApplicationError:
    return ApplicationError(message, type=ErrorType.DEPLOYMENT_FAILED, non_retryable=True)


@dataclass
class Seen:
    """What earlier polls of one verification found that cannot change back: the replaced
    contexts EMCO reported Updated (their resources deleted), which later polls need not
    read again (a waiting poll then reads once, and so does the one that finds the move
    done)."""

    deleted: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Poll:
    """One poll's answer: what still stands between the DIG and the expected placement
    ([] when done), and per app whether some cluster has it Ready (None: not known)."""

    problems: list[str]
    ready: dict[str, bool | None] = field(default_factory=dict)


async def check(emco: EmcoClient, request: VerifyRequest, seen: Seen | None = None) -> Poll:
    """One poll of the DIG status: one ``status=ready`` read of the apps (it carries the
    context's deployed status, every resource's deployed and ready status on every cluster
    of the current context, and the action log), plus, once that read finds the apps Ready
    where wanted and gone elsewhere, one read of the replaced context; the replaced
    context's readiness is read too while an app is Ready on no current cluster (for the
    interruption's measure). A replaced context ``seen`` deleted is not read again.

    Raises a non-retryable `ApplicationError` for outcomes that waiting cannot fix.
    """
    seen = seen if seen is not None else Seen()
    apps = tuple(dict.fromkeys(e.app for e in request.expectations))
    current = DigStatus.parse(
        await emco.status(request.dig, [("status", "ready"), *(("app", a) for a in apps)])
    )
    if current.state != DigState.INSTANTIATED:
        raise _fail(f"DIG {request.dig.dig} is now {current.state or 'without state'}")
    if current.revision < request.revision:
        found = [f"DIG is at revision {current.revision}, waiting for {request.revision}"]
    else:
        found = await _problems(emco, request, current, seen)
    ready = {
        app: True
        if current.ready_clusters(app)
        else await _ready_replaced(emco, request, current, app, seen)
        for app in apps
    }
    return Poll(found, ready)


async def _problems(
    emco: EmcoClient, request: VerifyRequest, current: DigStatus, seen: Seen
) -> list[str]:
    """What still stands between the DIG at the expected revision and the placement."""
    apps = tuple(e.app for e in request.expectations)
    if current.deployed_status == "InstantiateFailed":
        raise _fail(f"EMCO failed to deploy revision {current.revision} (InstantiateFailed)")
    failed = failed_resources(current, apps)
    if failed:
        raise _fail(f"deployment failed for {'; '.join(failed)}")
    found: list[str] = []
    if current.deployed_status != DigState.INSTANTIATED:
        found.append(f"revision {current.revision} is {current.deployed_status or 'pending'}")
    for expectation in request.expectations:
        still = current.clusters_of(expectation.app) & set(expectation.absent_from)
        found += [f"{expectation.app} is still placed on {c}" for c in sorted(still, key=str)]
        found += [
            problem
            for cluster in expectation.ready_on
            if (problem := ready_problem(current, expectation.app, cluster))
        ]
    if not found and any(e.absent_from for e in request.expectations):
        found += await _old_context_problems(emco, request, current, seen)
    return found


async def _ready_replaced(
    emco: EmcoClient, request: VerifyRequest, current: DigStatus, app: str, seen: Seen
) -> bool | None:
    """Whether the context the update replaced (a source still being deleted) has ``app``
    Ready, when no cluster of the current context has; False when there is no replaced
    context, None when EMCO refused to say (the old context may not have the app): the
    poll then does not observe it."""
    replaced = current.replaced_context(current.revision)
    if replaced is None or replaced in seen.deleted:
        return False
    try:
        status = DigStatus.parse(
            await emco.status(
                request.dig,
                [("status", "ready"), ("app", app), ("instance", replaced)],
            )
        )
    except ApplicationError as err:
        if not err.non_retryable:
            raise
        return None
    if status.deployed_status == DeployedStatus.UPDATED:
        seen.deleted.add(replaced)
    return bool(status.ready_clusters(app))


async def _old_context_problems(
    emco: EmcoClient, request: VerifyRequest, deployed: DigStatus, seen: Seen
) -> list[str]:
    old = deployed.replaced_context(deployed.revision)
    if old is None or old in seen.deleted:
        return []
    status = DigStatus.parse(
        await emco.status(request.dig, [("status", "deployed"), ("instance", old)])
    )
    if status.deployed_status == "UpdatedFailed":
        raise _fail(f"EMCO failed to remove the app from its old clusters (context {old})")
    if status.deployed_status != DeployedStatus.UPDATED:
        return [f"old context {old} is {status.deployed_status or 'pending'}: still deleting"]
    seen.deleted.add(old)
    return []


async def verify(
    emco: EmcoClient,
    request: VerifyRequest,
    *,
    heartbeat: Callable[..., None],
    clock: Callable[[], float] = time.time,
) -> VerifyResult:
    """Poll until `problems` is empty; raise `VerificationTimeout` at the deadline.

    Polls start fast and back off to every ``MAX_POLL_SECONDS`` with jitter (`poll_waits`);
    every poll heartbeats
    (so cancellation reaches this loop) with what it is still waiting for. A transient
    answer (5xx, 408, 429, timeout, connection error) means "not known yet", not failed:
    only a definite answer or the deadline ends the wait.
    """
    started = clock()
    waits = poll_waits()
    seen = Seen()
    polls = 0
    tally = Tally((e.app for e in request.expectations), request.unobserved_since)
    while True:
        polls += 1
        polled_at = clock()
        try:
            poll = await check(emco, request, seen)
        except ApplicationError as err:
            if err.non_retryable or err.type != ErrorType.UNAVAILABLE:
                verification_poll(PollResult.FAILED, request.purpose)
                # What the polls saw still reaches the workflow (a rollback goes on from it).
                raise ApplicationError(
                    err.message,
                    *err.details,
                    tally.details(),
                    type=err.type,
                    non_retryable=err.non_retryable,
                ) from None
            verification_poll(PollResult.UNKNOWN, request.purpose)
            found = [f"not known yet: {err.message}"]
        else:
            tally.observe(polled_at, clock(), poll.ready)
            found = poll.problems
            verification_poll(PollResult.WAITING if found else PollResult.READY, request.purpose)
        if not found:
            return VerifyResult(
                revision=request.revision,
                polls=polls,
                seconds=round(clock() - started, 3),
                interruptions=tally.measured(),
            )
        heartbeat({"polls": polls, "waitingFor": found[:5]})
        remaining = request.deadline_epoch - clock()
        if remaining <= 0:
            raise ApplicationError(
                f"{request.purpose} not verified within {request.timeout_seconds}s: "
                + "; ".join(found),
                {"waitingFor": found, **tally.details()},
                type=ErrorType.VERIFICATION_TIMEOUT,
                non_retryable=True,
            )
        await asyncio.sleep(min(next(waits), remaining))
