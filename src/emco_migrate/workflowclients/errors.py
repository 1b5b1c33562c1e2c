"""Errors of the workflow-client side, and where Temporal's own errors are classified."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio.service import RPCError, RPCStatusCode

from emco_migrate.errors import TemporalUnreachable, UserError
from emco_migrate.temporal_connection import short_reason

if TYPE_CHECKING:
    from emco_migrate.workflowclients.inspection import WorkflowStatus


class InvalidSpec(UserError):
    """A WfTemporalSpec (or option in it) that cannot be started; ``field`` names the culprit.
    The CLI exits 2, as for any other wrong usage."""

    exit_code = 2

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field or None
        self.reason = reason


class WorkflowAlreadyRunning(UserError):
    """The workflow ID is taken: running now, or closed and its reuse policy forbids a rerun."""

    def __init__(self, workflow_id: str) -> None:
        super().__init__(
            f"workflow ID {workflow_id!r} is already in use (a run is open, "
            "or the ID reuse policy forbids starting it again)"
        )
        self.workflow_id = workflow_id


class WorkflowStartRefused(UserError):
    """Temporal refused to start the workflow for a reason other than the ones above."""


class WorkflowNotFound(UserError):
    """No such workflow (or run) in the namespace."""

    def __init__(self, workflow_id: str, run_id: str = "", detail: str = "") -> None:
        what = f"workflow {workflow_id!r}" + (f" run {run_id!r}" if run_id else "")
        super().__init__(f"{what} not found" + (f": {detail}" if detail else ""))
        self.workflow_id = workflow_id
        self.run_id = run_id


class WorkflowAlreadyClosed(UserError):
    """Cancel or terminate asked for a run that has already ended."""


class QueryFailed(UserError):
    """A workflow query was rejected, failed in the workflow, or got no answer."""


class NoWorkerPolling(QueryFailed):
    """A query was not sent because no worker polls the workflow's task queue (it would only
    time out). ``report`` holds what was read without a worker (the `WorkflowStatus`)."""

    def __init__(self, message: str, *, task_queue: str, report: WorkflowStatus) -> None:
        super().__init__(message)
        self.task_queue = task_queue
        self.report = report


class WorkflowEndedWithoutResult(UserError):
    """A waited-for workflow closed without completing (failed, cancelled, terminated...)."""


UNREACHABLE_STATUSES = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED})


def as_unreachable(err: BaseException) -> TemporalUnreachable | None:
    """`TemporalUnreachable` when ``err`` means Temporal did not answer, else None.

    A connected client raises `RPCError` UNAVAILABLE/DEADLINE_EXCEEDED; a lazy client that
    cannot connect raises a bare ``RuntimeError("Failed client connect: ...")``.
    """
    if isinstance(err, RPCError) and err.status in UNREACHABLE_STATUSES:
        return TemporalUnreachable(f"Temporal did not answer: {short_reason(err)}")
    if isinstance(err, RuntimeError) and str(err).startswith("Failed client connect"):
        return TemporalUnreachable(f"cannot reach Temporal: {short_reason(err)}")
    return None
