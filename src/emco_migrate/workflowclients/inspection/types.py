"""What a status request asks for and what it found (boundary data of this package)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import WorkflowExecutionStatus

from emco_migrate.workflowclients.inspection.activity import PendingActivity, most_telling

DEFAULT_QUERY_TIMEOUT = timedelta(seconds=30)

CLOSED_WITHOUT_RESULT = frozenset(
    {
        WorkflowExecutionStatus.FAILED,
        WorkflowExecutionStatus.CANCELED,
        WorkflowExecutionStatus.TERMINATED,
        WorkflowExecutionStatus.TIMED_OUT,
    }
)


@dataclass(frozen=True)
class StatusRequest:
    """What to report about one workflow (EMCO's status query parameters).

    ``wait`` blocks until the workflow closes (following continue-as-new); the other
    parts are then read after it closed. ``query_type`` runs that query with
    `QueryRejectCondition.NONE`, so closed workflows are queried too (Temporal replays
    them on a worker of their task queue); it is not sent when no worker polls that task
    queue. ``annotate`` adds to a ``progress`` answer the pending activity and, for a run
    that ended without completing, its app intents as EMCO holds them now.
    """

    workflow_id: str
    run_id: str = ""
    describe: bool = False
    history: bool = False
    query_type: str = ""
    query_args: Sequence[Any] = ()
    wait: bool = False
    query_timeout: timedelta = DEFAULT_QUERY_TIMEOUT
    annotate: bool = True


@dataclass(frozen=True)
class WorkflowStatus:
    """What `get_status` found.

    ``status`` is the execution status of the run reported on; ``has_result`` says
    whether ``result`` holds the decoded result of a completed workflow; ``failure``
    says why a closed workflow has no result. ``activities`` are a running workflow's
    pending activities; ``no_worker`` says that no worker polls ``task_queue`` (when that
    was checked); ``query_error`` why the query asked for has no answer.
    """

    workflow_id: str
    run_id: str
    status: WorkflowExecutionStatus | None
    description: dict[str, Any] | None = None
    history: list[dict[str, Any]] | None = None
    queried: bool = False
    query_result: Any = None
    has_result: bool = False
    result: Any = None
    failure: str | None = None
    task_queue: str = ""
    activities: tuple[PendingActivity, ...] = ()
    no_worker: str | None = None
    query_error: str | None = None
    workflow_type: str = ""
    # From the description: the run actually reported on, and its start and close times.
    described_run_id: str = ""
    started_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def activity(self) -> PendingActivity | None:
        """The pending activity worth reporting, if any."""
        return most_telling(self.activities)

    @property
    def warning(self) -> str | None:
        """What stops a running workflow from moving, in one line."""
        if self.no_worker and self.status is WorkflowExecutionStatus.RUNNING:
            return f"{self.no_worker}: the workflow makes no progress until one does"
        return None

    def to_emco_dict(self) -> dict[str, Any]:
        """EMCO's status response keys, plus ``workflowResult`` when there is a result.

        ``runID`` is the run ID asked for (left out when none was); the description is
        ``{}`` unless it was asked for; history and query result appear only when asked.
        """
        out: dict[str, Any] = {"workflowID": self.workflow_id}
        if self.run_id:
            out["runID"] = self.run_id
        out["workflowExecutionDescription"] = self.description or {}
        if self.history is not None:
            out["workflowHistory"] = self.history
        if self.queried:
            out["workflowQueryResult"] = self.query_result
        if self.has_result:
            out["workflowResult"] = self.result
        return out

    def to_report(self) -> dict[str, Any]:
        """What `status` prints: `to_emco_dict` plus ``workflowStatus`` (the execution
        status); for a run that closed without a result ``workflowFailure`` (why); for a
        running one ``workflowActivity`` (its pending activity or null) and, when no
        worker polls its task queue, ``workflowWarning``; ``workflowQueryError`` when the
        query was not answered."""
        out = self.to_emco_dict()
        if self.status is not None:
            out["workflowStatus"] = self.status.name
        if self.failure:
            out["workflowFailure"] = self.failure
        if self.status is WorkflowExecutionStatus.RUNNING:
            activity = self.activity
            out["workflowActivity"] = activity.to_json() if activity is not None else None
        if (warning := self.warning) is not None:
            out["workflowWarning"] = warning
        if self.query_error is not None:
            out["workflowQueryError"] = self.query_error
        return out
