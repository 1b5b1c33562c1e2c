"""Workflow status, cancel and terminate, as EMCO's workflowmgr offers them.

Used by ``emco-migrate status`` / ``cancel`` and by the EMCO emulator's workflowmgr.
`get_status` returns a `WorkflowStatus`; `WorkflowStatus.to_emco_dict` gives EMCO's
status response (``workflowID``, ``runID``, ``workflowExecutionDescription``,
``workflowHistory``, ``workflowQueryResult``) plus ``workflowResult``, which EMCO
declares but never fills; `WorkflowStatus.to_report` adds the execution status and why a
closed run has no result. Protobuf messages are rendered with ``json_format`` keeping
the proto field names (snake_case, like the Go structs' JSON tags EMCO emits).

Every function raises `WorkflowNotFound` for a missing workflow, `QueryFailed` for a
query that gets no answer, and `TemporalUnreachable` when Temporal does not answer; all
are `UserError` subclasses carrying a one-line message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.common import QueryRejectCondition
from temporalio.service import RPCError, RPCStatusCode

from emco_migrate.errors import UserError
from emco_migrate.workflowclients.errors import (
    QueryFailed,
    WorkflowAlreadyClosed,
    WorkflowEndedWithoutResult,
    WorkflowNotFound,
    as_unreachable,
)

T = TypeVar("T")

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
    them on a worker of their task queue).
    """

    workflow_id: str
    run_id: str = ""
    describe: bool = False
    history: bool = False
    query_type: str = ""
    query_args: Sequence[Any] = ()
    wait: bool = False
    query_timeout: timedelta = DEFAULT_QUERY_TIMEOUT


@dataclass(frozen=True)
class WorkflowStatus:
    """What `get_status` found.

    ``status`` is the execution status of the run reported on; ``has_result`` says
    whether ``result`` holds the decoded result of a completed workflow; ``failure``
    says why a closed workflow has no result.
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
        """`to_emco_dict` plus ``workflowStatus`` (the execution status) and, for a run
        that closed without a result, ``workflowFailure`` (why): what `status` prints."""
        out = self.to_emco_dict()
        if self.status is not None:
            out["workflowStatus"] = self.status.name
        if self.failure:
            out["workflowFailure"] = self.failure
        return out


async def get_status(client: Client, request: StatusRequest) -> WorkflowStatus:
    """Describe, wait for, read the history of, query and fetch the result of a workflow."""
    ids = (request.workflow_id, request.run_id)
    handle = client.get_workflow_handle(request.workflow_id, run_id=request.run_id or None)
    description = await _call(handle.describe(), *ids)
    failure: str | None = None
    has_result, result = False, None
    if request.wait:
        try:
            result = await _call(handle.result(follow_runs=True), *ids)
            has_result = True
        except WorkflowFailureError as err:
            failure = _failure_text(err)
        # Describe again: the run has closed (without a run ID: the last run of the chain).
        description = await _call(handle.describe(), *ids)
    status = description.status
    if not has_result and status is WorkflowExecutionStatus.COMPLETED:
        result = await _call(handle.result(follow_runs=False), *ids)
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
        fetched = await _call(handle.fetch_history(), *ids)
        history = [proto_dict(event) for event in fetched.events]
    queried, query_result = False, None
    if request.query_type:
        query_result = await _query(handle, request)
        queried = True
    return WorkflowStatus(
        workflow_id=request.workflow_id,
        run_id=request.run_id,
        status=status,
        description=proto_dict(description.raw_description) if request.describe else None,
        history=history,
        queried=queried,
        query_result=query_result,
        has_result=has_result,
        result=result,
        failure=failure,
    )


async def cancel_workflow(
    client: Client, workflow_id: str, *, run_id: str = "", reason: str = ""
) -> None:
    """Request cancellation; the workflow decides how to wind down."""
    handle = client.get_workflow_handle(workflow_id, run_id=run_id or None)
    await _require_running(handle, workflow_id, run_id, "cancel")
    await _call(handle.cancel(reason=reason), workflow_id, run_id)


async def terminate_workflow(
    client: Client,
    workflow_id: str,
    *,
    run_id: str = "",
    reason: str = "",
    details: Sequence[Any] = (),
) -> None:
    """Terminate at once, recording ``reason`` and ``details`` in the history."""
    handle = client.get_workflow_handle(workflow_id, run_id=run_id or None)
    await _require_running(handle, workflow_id, run_id, "terminate")
    await _call(handle.terminate(*details, reason=reason or None), workflow_id, run_id)


async def _require_running(
    handle: WorkflowHandle[Any, Any], workflow_id: str, run_id: str, action: str
) -> None:
    """Refuse to cancel or terminate a run that has ended (Temporal would either accept a
    pointless cancel request or call the workflow 'not found')."""
    description = await _call(handle.describe(), workflow_id, run_id)
    status = description.status
    if status is not None and status is not WorkflowExecutionStatus.RUNNING:
        what = f"workflow {workflow_id!r}" + (f" run {run_id!r}" if run_id else "")
        raise WorkflowAlreadyClosed(f"{what} already ended ({status.name}); nothing to {action}")


def proto_dict(message: Message) -> dict[str, Any]:
    """A protobuf message as JSON-ready data, keeping proto (snake_case) field names."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


async def _query(handle: WorkflowHandle[Any, Any], request: StatusRequest) -> Any:
    what = f"query {request.query_type!r} on workflow {request.workflow_id!r}"
    try:
        return await _call(
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


async def _call(call: Awaitable[T], workflow_id: str, run_id: str) -> T:
    """Await a Temporal call, turning its transport and lookup errors into `UserError`s."""
    try:
        return await call
    except RPCError as err:
        if (unreachable := as_unreachable(err)) is not None:
            if err.status is RPCStatusCode.DEADLINE_EXCEEDED:
                raise UserError(f"Temporal call timed out: {err.message}") from err
            raise unreachable from err
        if err.status is RPCStatusCode.NOT_FOUND:
            raise WorkflowNotFound(workflow_id, run_id, err.message) from err
        raise UserError(f"Temporal refused the request: {err.message}") from err
    except RuntimeError as err:
        if (unreachable := as_unreachable(err)) is not None:
            raise unreachable from err
        raise


async def _closing_failure(handle: WorkflowHandle[Any, Any], ids: tuple[str, str]) -> str:
    """Why a closed run has no result, read from its close event."""
    try:
        await _call(handle.result(follow_runs=False), *ids)
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
