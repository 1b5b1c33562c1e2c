"""Cancel and terminate, refusing runs that have already ended."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle

from emco_migrate.workflowclients.errors import WorkflowAlreadyClosed
from emco_migrate.workflowclients.inspection.calls import temporal_call


async def cancel_workflow(
    client: Client, workflow_id: str, *, run_id: str = "", reason: str = ""
) -> None:
    """Request cancellation; the workflow decides how to wind down."""
    handle = client.get_workflow_handle(workflow_id, run_id=run_id or None)
    await _require_running(handle, workflow_id, run_id, "cancel")
    await temporal_call(handle.cancel(reason=reason), workflow_id, run_id)


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
    await temporal_call(handle.terminate(*details, reason=reason or None), workflow_id, run_id)


async def _require_running(
    handle: WorkflowHandle[Any, Any], workflow_id: str, run_id: str, action: str
) -> None:
    """Refuse to cancel or terminate a run that has ended (Temporal would either accept a
    pointless cancel request or call the workflow 'not found')."""
    description = await temporal_call(handle.describe(), workflow_id, run_id)
    status = description.status
    if status is not None and status is not WorkflowExecutionStatus.RUNNING:
        what = f"workflow {workflow_id!r}" + (f" run {run_id!r}" if run_id else "")
        raise WorkflowAlreadyClosed(f"{what} already ended ({status.name}); nothing to {action}")
