"""The body EMCO's workflowmgr POSTs to ``/invoke/{client}``, as the Go reference sends it.

The template is the Go sample's WfTemporalSpec (the options of the seed's workflow intent);
each start gets its own workflow ID and the activity parameters of a real DIG.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from emco_migrate.emcomigrate.names import MIGRATE_WORKFLOW_CLIENT

_TEMPLATE: dict[str, Any] = {
    "workflowClientName": MIGRATE_WORKFLOW_CLIENT,
    "workflowStartOptions": {
        "ID": "",
        "TaskQueue": "MIGRATION_TASK_Q",
        "WorkflowExecutionTimeout": 0,
        "WorkflowRunTimeout": 0,
        "WorkflowTaskTimeout": 0,
        "WorkflowIDReusePolicy": 0,
        "WorkflowExecutionErrorWhenAlreadyStarted": False,
        "RetryPolicy": {
            "InitialInterval": 0,
            "BackoffCoefficient": 0,
            "MaximumInterval": 0,
            "MaximumAttempts": 2,
            "NonRetryableErrorTypes": None,
        },
        "CronSchedule": "",
        "Memo": None,
        "SearchAttributes": None,
    },
    "workflowParams": {
        "activityOptions": {
            "all-activities": {
                "TaskQueue": "",
                "ScheduleToCloseTimeout": 0,
                "ScheduleToStartTimeout": 0,
                "StartToCloseTimeout": 60_000_000_000,
                "HeartbeatTimeout": 5_000_000,
                "WaitForCancellation": False,
                "ActivityID": "",
                "RetryPolicy": {
                    "InitialInterval": 10,
                    "BackoffCoefficient": 0,
                    "MaximumInterval": 0,
                    "MaximumAttempts": 0,
                    "NonRetryableErrorTypes": None,
                },
            }
        },
        "activityParams": {"all-activities": {}},
    },
}


def invoke_body(
    workflow_id: str, params: dict[str, str], client_name: str = MIGRATE_WORKFLOW_CLIENT
) -> bytes:
    """The JSON body starting workflow ``workflow_id`` with these activity parameters."""
    body = copy.deepcopy(_TEMPLATE)
    body["workflowClientName"] = client_name
    body["workflowStartOptions"]["ID"] = workflow_id
    body["workflowParams"]["activityParams"]["all-activities"] = dict(params)
    return json.dumps(body, separators=(",", ":")).encode()
