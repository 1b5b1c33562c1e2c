"""`get_status`: describe, wait for, read the history of, query and fetch a workflow."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import httpx
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.common import QueryRejectCondition

from emco_migrate.emcomigrate.names import QUERY_PROGRESS
from emco_migrate.errors import UserError
from emco_migrate.workflowclients.errors import (
    NoWorkerPolling,
    QueryFailed,
    WorkflowEndedWithoutResult,
    WorkflowNotFound,
)
from emco_migrate.workflowclients.inspection.activity import pending_activities
from emco_migrate.workflowclients.inspection.calls import proto_dict, temporal_call
from emco_migrate.workflowclients.inspection.progress_report import ProgressAnswer
from emco_migrate.workflowclients.inspection.types import (
    CLOSED_WITHOUT_RESULT,
    StatusRequest,
    WorkflowStatus,
)
from emco_migrate.workflowclients.inspection.workers import POLLER_GRACE, workflow_pollers

log = logging.getLogger(__name__)


async def get_status(
    client: Client, request: StatusRequest, *, http: httpx.AsyncClient | None = None
) -> WorkflowStatus:
    """Describe, wait for, read the history of, query and fetch the result of a workflow.

    ``http`` reads app intents back from EMCO for an annotated progress answer (a
    short-lived client is made when it is needed and none is given). Raises
    `NoWorkerPolling` (carrying everything else that was read) instead of sending a query
    that no worker would answer.
    """
    ids = (request.workflow_id, request.run_id)
    handle = client.get_workflow_handle(request.workflow_id, run_id=request.run_id or None)
    description = await temporal_call(handle.describe(), *ids)
    failure: str | None = None
    has_result, result = False, None
    if request.wait:
        if description.status is WorkflowExecutionStatus.RUNNING:
            pollers = await workflow_pollers(client, description.task_queue, grace=POLLER_GRACE)
            if pollers is not None and not pollers.polled:
                log.warning("%s; waiting for workflow %s anyway", pollers.absence(), ids[0])
        try:
            result = await temporal_call(handle.result(follow_runs=True), *ids)
            has_result = True
        except WorkflowFailureError as err:
            failure = _failure_text(err)
        # Describe again: the run has closed (without a run ID: the last run of the chain).
        description = await temporal_call(handle.describe(), *ids)
    status = description.status
    if not has_result and status is WorkflowExecutionStatus.COMPLETED:
        result = await temporal_call(handle.result(follow_runs=False), *ids)
        has_result = True
    elif failure is None and status in CLOSED_WITHOUT_RESULT:
        failure = await _closing_failure(handle, ids)
    if status is WorkflowExecutionStatus.CANCELED and failure is not None:
        # A workflow may record how it wound down in its memo (the migrate workflow's
        # compensation does): a cancellation carries no message of its own.
        outcome = (await description.memo()).get("outcome")
        if isinstance(outcome, str) and outcome:
            failure = f"{failure}; {outcome}"
    history = None
    if request.history:
        fetched = await temporal_call(handle.fetch_history(), *ids)
        history = [proto_dict(event) for event in fetched.events]
    running = status is WorkflowExecutionStatus.RUNNING
    # A running workflow needs a worker to move on, and any query needs one to answer
    # (a closed workflow is queried by replaying its history on a worker).
    no_worker = None
    if running or request.query_type:
        pollers = await workflow_pollers(client, description.task_queue, grace=POLLER_GRACE)
        no_worker = pollers.absence() if pollers is not None and not pollers.polled else None
    found = WorkflowStatus(
        workflow_id=request.workflow_id,
        run_id=request.run_id,
        status=status,
        description=proto_dict(description.raw_description) if request.describe else None,
        history=history,
        has_result=has_result,
        result=result,
        failure=failure,
        task_queue=description.task_queue,
        activities=(
            pending_activities(description.raw_description.pending_activities) if running else ()
        ),
        no_worker=no_worker,
        workflow_type=description.workflow_type,
        described_run_id=description.run_id,
        started_at=description.start_time,
        closed_at=description.close_time,
    )
    if not request.query_type:
        return found
    if no_worker is not None:
        message = (
            f"{no_worker}, so query {request.query_type!r} on workflow "
            f"{request.workflow_id!r} cannot be answered"
            + ("" if running else " (a closed workflow is queried by replaying it on a worker)")
        )
        raise NoWorkerPolling(
            message,
            task_queue=description.task_queue,
            report=replace(found, query_error=message),
        )
    answer = await _query(handle, request)
    if request.annotate and request.query_type == QUERY_PROGRESS:
        answer = await _annotated_progress(answer, found, http)
    return replace(found, queried=True, query_result=answer)


async def _annotated_progress(
    answer: Any, found: WorkflowStatus, http: httpx.AsyncClient | None
) -> Any:
    """The progress answer with the pending activity and, for a run that ended without
    completing, what it left in EMCO."""
    progress = ProgressAnswer.parse(answer)
    if progress is None:
        return answer
    intents = None
    if found.status in CLOSED_WITHOUT_RESULT and progress.dig is not None and progress.plan:
        intents = await progress.intents_in_emco(http)
    return progress.annotated(found.activity, intents)


async def _query(handle: WorkflowHandle[Any, Any], request: StatusRequest) -> Any:
    what = f"query {request.query_type!r} on workflow {request.workflow_id!r}"
    try:
        return await temporal_call(
            handle.query(
                request.query_type,
                args=list(request.query_args),
                reject_condition=QueryRejectCondition.NONE,
                rpc_timeout=request.query_timeout,
            ),
            request.workflow_id,
            request.run_id,
        )
    except WorkflowQueryFailedError as err:
        raise QueryFailed(f"{what} failed: {err.message}") from err
    except WorkflowQueryRejectedError as err:
        raise QueryFailed(f"{what} was rejected (status {err.status})") from err
    except UserError as err:
        if isinstance(err, WorkflowNotFound):
            raise
        raise QueryFailed(f"{what}: {err}") from err


async def _closing_failure(handle: WorkflowHandle[Any, Any], ids: tuple[str, str]) -> str:
    """Why a closed run has no result, read from its close event."""
    try:
        await temporal_call(handle.result(follow_runs=False), *ids)
    except WorkflowFailureError as err:
        return _failure_text(err)
    return "workflow closed without a result"


def _failure_text(err: WorkflowFailureError) -> str:
    cause = err.cause
    kind = type(cause).__name__
    message = getattr(cause, "message", None) or str(cause)
    return f"{kind}: {message}" if message else kind


def ended_without_result(status: WorkflowStatus) -> WorkflowEndedWithoutResult:
    """The error a caller that waited raises when the workflow closed without a result."""
    name = status.status.name if status.status else "unknown"
    return WorkflowEndedWithoutResult(
        f"workflow {status.workflow_id!r} ended {name} without a result"
        + (f": {status.failure}" if status.failure else "")
    )
