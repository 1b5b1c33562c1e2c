"""Workflow status, cancel and terminate, as EMCO's workflowmgr offers them.

Used by ``emco-migrate status`` / ``cancel`` and by the EMCO emulator's workflowmgr.
`get_status` returns a `WorkflowStatus`; `WorkflowStatus.to_emco_dict` gives EMCO's
status response (``workflowID``, ``runID``, ``workflowExecutionDescription``,
``workflowHistory``, ``workflowQueryResult``) plus ``workflowResult``, which EMCO
declares but never fills; `WorkflowStatus.to_report` adds the execution status, why a
closed run has no result, a running run's pending activity and a missing worker.
Protobuf messages are rendered with ``json_format`` keeping the proto field names
(snake_case, like the Go structs' JSON tags EMCO emits).

Every function raises `WorkflowNotFound` for a missing workflow, `QueryFailed` for a
query that gets no answer (`NoWorkerPolling` when no worker could answer it, so it was
not sent), and `TemporalUnreachable` when Temporal does not answer; all are `UserError`
subclasses carrying a one-line message.

Modules: ``types`` (request and answer), ``status`` (get_status), ``control`` (cancel,
terminate), ``workers`` (task queue pollers), ``activity`` (pending activities),
``progress_report`` and ``emco_intents`` (the annotated ``progress`` answer), ``calls``
(Temporal errors).
"""

from emco_migrate.workflowclients.inspection.calls import proto_dict
from emco_migrate.workflowclients.inspection.control import cancel_workflow, terminate_workflow
from emco_migrate.workflowclients.inspection.status import ended_without_result, get_status
from emco_migrate.workflowclients.inspection.types import (
    CLOSED_WITHOUT_RESULT,
    DEFAULT_QUERY_TIMEOUT,
    StatusRequest,
    WorkflowStatus,
)

__all__ = [
    "CLOSED_WITHOUT_RESULT",
    "DEFAULT_QUERY_TIMEOUT",
    "StatusRequest",
    "WorkflowStatus",
    "cancel_workflow",
    "ended_without_result",
    "get_status",
    "proto_dict",
    "terminate_workflow",
]
