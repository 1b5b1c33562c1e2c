"""What every EMCO activity attempt shares: a request bound below its timeout, a heartbeat
that keeps going while a request is in flight, and the wait before a retried write decides.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from emco_migrate.emcomigrate.emco_client import DEFAULT_TIMEOUT, EmcoClient
from emco_migrate.emcomigrate.endpoints import EmcoUrlPolicy, UrlRefused
from emco_migrate.emcomigrate.error_types import ErrorType

# A request may use at most this share of the attempt's start-to-close timeout, so the
# attempt sees the request end (answered or timed out) before Temporal times it out.
REQUEST_SHARE = 0.8
MIN_REQUEST_SECONDS = 0.5
HEARTBEAT_EVERY_MAX = timedelta(seconds=5)


def request_timeout(reserved: float = 0.0) -> float:
    """Seconds one EMCO request of this attempt may take; ``reserved`` seconds of the
    start-to-close timeout are kept for `settle_before_deciding`."""
    default = DEFAULT_TIMEOUT.read or 30.0
    info = activity.info()
    bounds = [
        (t.total_seconds() - reserved) * REQUEST_SHARE
        for t in (info.start_to_close_timeout, info.schedule_to_close_timeout)
        if t
    ]
    return max(MIN_REQUEST_SECONDS, min([default, *bounds]))


class EmcoAccess:
    """The worker's way to EMCO: one HTTP client, and the operator's URL allowlist checked
    before any request (a workflow may be started by anyone who can reach Temporal, not
    only through our HTTP server, which checks it too)."""

    def __init__(self, http: httpx.AsyncClient, policy: EmcoUrlPolicy | None = None) -> None:
        self.http = http
        self.policy = policy or EmcoUrlPolicy()

    def client(self, base_url: str, *, reserved: float = 0.0) -> EmcoClient:
        """An EMCO client for ``base_url`` whose requests end before this attempt's
        timeout; a URL the allowlist refuses fails the attempt, never to be retried."""
        try:
            self.policy.check(base_url)
        except UrlRefused as err:
            raise ApplicationError(
                f"emcoURL {err}", type=ErrorType.URL_NOT_ALLOWED, non_retryable=True
            ) from None
        return EmcoClient(self.http, base_url, timeout=request_timeout(reserved))


class Beat:
    """The details the background heartbeat repeats; `__call__` changes and sends them."""

    def __init__(self, details: tuple[Any, ...]) -> None:
        self.details = details

    def __call__(self, *details: Any) -> None:
        self.details = details
        activity.heartbeat(*details)


@asynccontextmanager
async def heartbeating(*details: Any) -> AsyncIterator[Beat]:
    """Heartbeat now and then while the block runs (a slow EMCO request must not look like
    a dead worker, and a dead worker is noticed within the heartbeat timeout). The block
    may call the yielded `Beat` to send new details, which are then the ones repeated.

    The first beat goes out a third of the heartbeat timeout (at most 5 s) in: Temporal
    counts the timeout from the attempt's start, and a block that ends sooner (most EMCO
    reads) would only have cost Temporal a heartbeat call (issue 14)."""
    info = activity.info()
    every = min(info.heartbeat_timeout or HEARTBEAT_EVERY_MAX, HEARTBEAT_EVERY_MAX) / 3
    beat = Beat(details)

    async def repeat() -> None:
        while True:
            await asyncio.sleep(every.total_seconds())
            activity.heartbeat(*beat.details)

    task = asyncio.create_task(repeat())
    try:
        yield beat
    finally:
        task.cancel()


async def settle_before_deciding(settle_seconds: float) -> float:
    """On a retry, wait until a write an earlier attempt sent can no longer reach EMCO.

    An earlier attempt's request left before this attempt was scheduled; a proxy or a
    queued ingress may still deliver it up to ``settle_seconds`` later. Deciding from
    EMCO's state before then could post the same write twice. Returns the seconds waited
    (0 on a first attempt).
    """
    info = activity.info()
    if info.attempt <= 1 or settle_seconds <= 0:
        return 0.0
    ready_at = info.current_attempt_scheduled_time.timestamp() + settle_seconds
    waited = max(0.0, ready_at - time.time())
    if waited:
        async with heartbeating({"settling": round(waited, 3)}):
            await asyncio.sleep(waited)
    return waited
