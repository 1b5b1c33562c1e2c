"""Following a running migration or evacuation: one line per change, then how it ended."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from temporalio.client import Client, WorkflowExecutionStatus

from emco_migrate.emcomigrate import fleet
from emco_migrate.emcomigrate.names import QUERY_PROGRESS, WORKFLOW_EVACUATE
from emco_migrate.workflowclients.errors import NoWorkerPolling
from emco_migrate.workflowclients.inspection.emco_intents import EMCO_TIMEOUT
from emco_migrate.workflowclients.inspection.status import get_status
from emco_migrate.workflowclients.inspection.types import StatusRequest, WorkflowStatus

EVERY = 1.0  # seconds between looks
# A migration's result phases that mean it did what was asked.
SUCCEEDED = frozenset({"completed", "no-op", "dry-run"})


@dataclass(frozen=True)
class Ended:
    """How a followed workflow ended: its last status, the final line, and the exit code."""

    status: WorkflowStatus
    line: str
    code: int


def progress_line(status: WorkflowStatus) -> str:
    """What the workflow is doing: phase and message, and for a migration the activity that
    is retrying (attempt, last error) or what verification waits for."""
    answer = status.query_result if isinstance(status.query_result, dict) else {}
    line = f"{answer.get('phase', '?')}: {answer.get('message', '')}".rstrip()
    return line + activity_note(status)


def activity_note(status: WorkflowStatus) -> str:
    """For a running migration: the activity that is retrying (attempt, last error) and
    what verification waits for, each in brackets; "" when there is nothing to say."""
    note = ""
    activity = status.activity
    if activity is not None and status.workflow_type != WORKFLOW_EVACUATE:
        if activity.attempt > 1 or activity.last_error:
            error = f": {activity.last_error}" if activity.last_error else ""
            note += f" [{activity.name} attempt {activity.attempt}{error}]"
        if activity.waiting_for:
            note += f" [waiting for {'; '.join(activity.waiting_for)}]"
    return note


def ended(status: WorkflowStatus) -> Ended:
    """The final line and exit code of a closed workflow: 0 when a migration completed (or
    was a dry run or a no-op) or an evacuation moved every DIG it selected."""
    name = status.status.name if status.status else "unknown"
    result = status.result if isinstance(status.result, dict) else None
    if not status.has_result or result is None:
        return Ended(status, f"{name}: {status.failure or 'no result'}", 1)
    line = f"{name}: {result.get('phase')}: {result.get('message')}"
    if status.workflow_type == WORKFLOW_EVACUATE:
        return Ended(status, line, 0 if fleet.report_succeeded(result) else 1)
    return Ended(status, line, 0 if result.get("phase") in SUCCEEDED else 1)


async def follow(
    client: Client,
    workflow_id: str,
    say: Callable[[str], None],
    *,
    run_id: str = "",
    every: float = EVERY,
) -> Ended:
    """Call ``say`` with ``[elapsed] line`` whenever the workflow's progress line changes
    (or no worker polls its queue), until it closes; how it ended."""
    started, last = time.monotonic(), ""
    plain = StatusRequest(workflow_id, run_id=run_id)
    queried = StatusRequest(workflow_id, run_id=run_id, query_type=QUERY_PROGRESS)
    async with httpx.AsyncClient(timeout=EMCO_TIMEOUT) as http:
        while True:
            status = await get_status(client, plain, http=http)
            if status.status is not WorkflowExecutionStatus.RUNNING:
                return ended(status)
            try:
                line = progress_line(await get_status(client, queried, http=http))
            except NoWorkerPolling as err:
                line = f"waiting: {err.report.no_worker or err}"
            if line != last:
                say(f"[{time.monotonic() - started:6.1f}s] {line}")
                last = line
            await asyncio.sleep(every)
