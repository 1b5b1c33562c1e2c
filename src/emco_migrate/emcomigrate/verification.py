"""Polling EMCO until an app is Ready where it should be and gone where it should not.

EMCO's DIG status answers only for the context it is asked about, so readiness is read in
steps: the context of the expected revision is Instantiated with no Failed resource; each
app is Ready on each wanted cluster with at least one resource and Available connectivity;
clusters it must leave no longer list it, and the replaced context reached Updated (its
resources deleted). Each poll also notes, per app, whether any cluster has it Ready (a wanted
one, another of the current context, or one of the context the update replaced), from which
`interruption.Tally` measures how long none had it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
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
MAX_POLL_SECONDS = 2.0


def _fail(message: str) -> ApplicationError:
    return ApplicationError(message, type=ErrorType.DEPLOYMENT_FAILED, non_retryable=True)


@dataclass(frozen=True)
class Poll:
    """One poll's answer: what still stands between the DIG and the expected placement
    ([] when done), and per app whether some cluster has it Ready (None: not known)."""

    problems: list[str]
    ready: dict[str, bool | None] = field(default_factory=dict)


async def check(emco: EmcoClient, request: VerifyRequest) -> Poll:
    """One poll of the DIG status.

    Raises a non-retryable `ApplicationError` for outcomes that waiting cannot fix.
    """
    apps = tuple(dict.fromkeys(e.app for e in request.expectations))
    deployed = DigStatus.parse(
        await emco.status(request.dig, [("status", "deployed"), *(("app", a) for a in apps)])
    )
    if deployed.state != DigState.INSTANTIATED:
        raise _fail(f"DIG {request.dig.dig} is now {deployed.state or 'without state'}")
    ready_on_wanted: set[str] = set()
    if deployed.revision < request.revision:
        found = [f"DIG is at revision {deployed.revision}, waiting for {request.revision}"]
    else:
        found = await _problems(emco, request, deployed, ready_on_wanted)
    ready = {
        app: True
        if app in ready_on_wanted
        else await _ready_elsewhere(emco, request, deployed, app)
        for app in apps
    }
    return Poll(found, ready)


async def _problems(
    emco: EmcoClient, request: VerifyRequest, deployed: DigStatus, ready_on_wanted: set[str]
) -> list[str]:
    """What still stands between the DIG at the expected revision and the placement; adds
    to ``ready_on_wanted`` each app found Ready on a cluster it must be Ready on."""
    apps = tuple(e.app for e in request.expectations)
    if deployed.deployed_status == "InstantiateFailed":
        raise _fail(f"EMCO failed to deploy revision {deployed.revision} (InstantiateFailed)")
    failed = failed_resources(deployed, apps)
    if failed:
        raise _fail(f"deployment failed for {'; '.join(failed)}")
    found: list[str] = []
    if deployed.deployed_status != DigState.INSTANTIATED:
        found.append(f"revision {deployed.revision} is {deployed.deployed_status or 'pending'}")
    for expectation in request.expectations:
        still = deployed.clusters_of(expectation.app) & set(expectation.absent_from)
        found += [f"{expectation.app} is still placed on {c}" for c in sorted(still, key=str)]
        for cluster in expectation.ready_on:
            ready = DigStatus.parse(
                await emco.status(
                    request.dig,
                    [("status", "ready"), ("app", expectation.app), ("cluster", str(cluster))],
                )
            )
            problem = ready_problem(ready, expectation.app, cluster)
            if problem:
                found.append(problem)
            else:
                ready_on_wanted.add(expectation.app)
    if not found and any(e.absent_from for e in request.expectations):
        found += await _old_context_problems(emco, request, deployed)
    return found


async def _ready_elsewhere(
    emco: EmcoClient, request: VerifyRequest, deployed: DigStatus, app: str
) -> bool | None:
    """Whether a cluster other than the wanted ones has ``app`` Ready: one of the current
    context (a kept source, or the DIG before it reached the revision), or one of the
    context the update replaced (a source still being deleted). None when EMCO refused to
    say (the old context may not have the app): the poll then does not observe it."""
    queries = [[("status", "ready"), ("app", app)]]
    replaced = deployed.replaced_context(deployed.revision)
    if replaced is not None:
        queries.append([("status", "ready"), ("app", app), ("instance", replaced)])
    for query in queries:
        try:
            status = DigStatus.parse(await emco.status(request.dig, query))
        except ApplicationError as err:
            if not err.non_retryable:
                raise
            return None
        if status.ready_clusters(app):
            return True
    return False


async def _old_context_problems(
    emco: EmcoClient, request: VerifyRequest, deployed: DigStatus
) -> list[str]:
    old = deployed.replaced_context(deployed.revision)
    if old is None:
        return []
    status = DigStatus.parse(
        await emco.status(request.dig, [("status", "deployed"), ("instance", old)])
    )
    if status.deployed_status == "UpdatedFailed":
        raise _fail(f"EMCO failed to remove the app from its old clusters (context {old})")
    if status.deployed_status != DeployedStatus.UPDATED:
        return [f"old context {old} is {status.deployed_status or 'pending'}: still deleting"]
    return []


async def verify(
    emco: EmcoClient,
    request: VerifyRequest,
    *,
    heartbeat: Callable[..., None],
    clock: Callable[[], float] = time.time,
) -> VerifyResult:
    """Poll until `problems` is empty; raise `VerificationTimeout` at the deadline.

    Polls start fast and back off to every ``MAX_POLL_SECONDS``; every poll heartbeats
    (so cancellation reaches this loop) with what it is still waiting for. A transient
    answer (5xx, 408, 429, timeout, connection error) means "not known yet", not failed:
    only a definite answer or the deadline ends the wait.
    """
    started = clock()
    interval = FIRST_POLL_SECONDS
    polls = 0
    tally = Tally((e.app for e in request.expectations), request.unobserved_since)
    while True:
        polls += 1
        polled_at = clock()
        try:
            poll = await check(emco, request)
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
        await asyncio.sleep(min(interval, remaining))
        interval = min(interval * 1.5, MAX_POLL_SECONDS)
