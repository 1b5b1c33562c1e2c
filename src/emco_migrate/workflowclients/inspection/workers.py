"""Whether a worker polls a workflow's task queue: without one a query only times out."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

log = logging.getLogger(__name__)

# Temporal lists a poller for five minutes after its last poll, also once its worker has
# stopped. An idle worker polls again every minute (measured on the dev server: the long
# poll returns after 60 s), so a poller not seen for two minutes is gone; the extra minute
# covers clock skew between this host and Temporal's.
POLLER_SEEN_WITHIN = timedelta(minutes=2)
# A worker that has just started sends its first poll some 10-20 ms later (dev server); a
# status run at that moment looks again for a while before it reports nobody polling.
POLLER_GRACE = timedelta(seconds=1)
RECHECK_SECONDS = 0.1
DESCRIBE_TIMEOUT = timedelta(seconds=5)


@dataclass(frozen=True)
class TaskQueuePollers:
    """Who polls a task queue for workflow tasks, as Temporal reports it."""

    task_queue: str
    live: tuple[str, ...] = ()
    last_poll: datetime | None = None

    @property
    def polled(self) -> bool:
        """A worker polled recently enough to be alive."""
        return bool(self.live)

    def absence(self) -> str:
        """Why nobody will answer, for a one-line message."""
        reason = f"no worker is polling task queue {self.task_queue!r}"
        if self.last_poll is not None:
            reason += f" (the last poll was at {self.last_poll:%Y-%m-%d %H:%M:%S}Z)"
        return reason


async def workflow_pollers(
    client: Client,
    task_queue: str,
    *,
    grace: timedelta = timedelta(0),
    now: datetime | None = None,
) -> TaskQueuePollers | None:
    """The workflow-task pollers of ``task_queue``, looking again for up to ``grace`` while
    none is live; None when Temporal would not say (for example the caller may not
    describe task queues): then nothing is known either way. ``now`` fixes the clock."""
    deadline = time.monotonic() + grace.total_seconds()
    while True:
        found = await _pollers(client, task_queue, now or datetime.now(UTC))
        if found is None or found.polled or time.monotonic() >= deadline:
            return found
        await asyncio.sleep(RECHECK_SECONDS)


async def _pollers(client: Client, task_queue: str, now: datetime) -> TaskQueuePollers | None:
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    try:
        answer = await client.workflow_service.describe_task_queue(
            request, timeout=DESCRIBE_TIMEOUT
        )
    except RPCError as err:
        log.debug("cannot describe task queue %s: %s", task_queue, err.message)
        return None
    live: list[str] = []
    last: datetime | None = None
    for poller in answer.pollers:
        seen = (
            poller.last_access_time.ToDatetime().replace(tzinfo=UTC)
            if poller.HasField("last_access_time")
            else None
        )
        if seen is None or now - seen <= POLLER_SEEN_WITHIN:
            live.append(poller.identity or "?")
        elif last is None or seen > last:
            last = seen
    return TaskQueuePollers(task_queue, tuple(live), None if live else last)
