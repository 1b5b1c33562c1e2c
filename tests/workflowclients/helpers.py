"""Helpers for the workflow-client tests: test vectors, tracked workflow IDs, waits."""

from __future__ import annotations

import contextlib
import json
import uuid
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "vectors"
INVOKE_BODY = (VECTORS / "invoke-body-04.json").read_bytes()
WORKFLOW_INPUT = (VECTORS / "workflow-input-04.json").read_bytes()
VECTOR_WORKFLOW_ID = "migrate-apps-1"


class Workflows:
    """Hands out unique workflow IDs and terminates every one of them at teardown."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.ids: list[str] = []

    def new_id(self, prefix: str = "wfc-test") -> str:
        """A fresh workflow ID, tracked for teardown."""
        return self.track(f"{prefix}-{uuid.uuid4().hex[:12]}")

    def track(self, workflow_id: str) -> str:
        """Track an ID chosen elsewhere (e.g. by a test vector)."""
        self.ids.append(workflow_id)
        return workflow_id

    async def terminate_all(self) -> None:
        """Terminate whatever is still open (missing or closed workflows are fine)."""
        for workflow_id in self.ids:
            with contextlib.suppress(RPCError):
                await self.client.get_workflow_handle(workflow_id).terminate(reason="test teardown")


async def started_event_input(client: Client, workflow_id: str) -> Payload:
    """The single input payload recorded in the workflow's started event."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0]
    assert started.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
    payloads = started.workflow_execution_started_event_attributes.input.payloads
    assert len(payloads) == 1
    return payloads[0]


async def status_of(client: Client, workflow_id: str) -> WorkflowExecutionStatus | None:
    """The execution status of the workflow's latest run."""
    return (await client.get_workflow_handle(workflow_id).describe()).status


def spec_body(workflow_id: str | None, **start_options: Any) -> bytes:
    """An invoke body: the vector with another ID and some start options replaced."""
    spec = json.loads(INVOKE_BODY)
    options = spec["workflowStartOptions"]
    if workflow_id is None:
        del options["ID"]
    else:
        options["ID"] = workflow_id
    options.update(start_options)
    return json.dumps(spec).encode()
