"""Status, query, result, cancel and terminate against a real Temporal dev server."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from emco_migrate import cli
from emco_migrate.devstack.processes import free_port
from emco_migrate.emcomigrate.names import QUERY_CURRENT_STATE
from emco_migrate.wire.temporal import TemporalSpec
from emco_migrate.workflowclients.errors import QueryFailed, WorkflowNotFound
from emco_migrate.workflowclients.inspection import (
    StatusRequest,
    cancel_workflow,
    get_status,
    terminate_workflow,
)
from emco_migrate.workflowclients.migrate_workflowclient.client import MigrateWorkflowClient
from support.waiting import wait_for

from .helpers import Workflows, spec_body, status_of

pytestmark = pytest.mark.integration


@workflow.defn(name="WorkflowClientsTestGate")
class GateWorkflow:
    """Waits for a ``finish`` signal, then completes (or fails when told to)."""

    def __init__(self) -> None:
        self._state = "started"
        self._how: str | None = None

    @workflow.run
    async def run(self, name: str) -> dict[str, Any]:
        self._state = "waiting"
        await workflow.wait_condition(lambda: self._how is not None)
        if self._how == "fail":
            self._state = "failed"
            raise ApplicationError("asked to fail", non_retryable=True)
        self._state = "completed"
        return {"greeting": f"hello {name}", "count": 2}

    @workflow.query(name=QUERY_CURRENT_STATE)
    def current_state(self) -> str:
        return self._state

    @workflow.signal
    def finish(self, how: str) -> None:
        self._how = how


@pytest.fixture
def task_queue() -> str:
    """A task queue only this test polls."""
    return f"wfc-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def gate_worker(temporal_client: Client, task_queue: str) -> AsyncIterator[Worker]:
    """An in-process worker for `GateWorkflow` on the test's own task queue."""
    async with Worker(
        temporal_client,
        task_queue=task_queue,
        workflows=[GateWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ) as worker:
        yield worker


async def _start_gate(client: Client, workflows: Workflows, task_queue: str) -> str:
    workflow_id = workflows.new_id("wfc-gate")
    await client.start_workflow(GateWorkflow.run, "emco", id=workflow_id, task_queue=task_queue)
    return workflow_id


async def _start_migrate(client: Client, workflows: Workflows) -> str:
    workflow_id = workflows.new_id()
    await MigrateWorkflowClient().start(client, TemporalSpec.from_json(spec_body(workflow_id)))
    return workflow_id


async def _history_types(client: Client, workflow_id: str) -> list[int]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [event.event_type for event in history.events]


# ----------------------------------------------------------------- status


async def test_plain_status_has_only_the_emco_keys(
    temporal_client: Client, workflows: Workflows
) -> None:
    workflow_id = await _start_migrate(temporal_client, workflows)

    status = await get_status(temporal_client, StatusRequest(workflow_id))

    assert status.status is WorkflowExecutionStatus.RUNNING
    assert status.to_emco_dict() == {"workflowID": workflow_id, "workflowExecutionDescription": {}}


async def test_describe_and_history_of_a_running_workflow(
    temporal_client: Client, workflows: Workflows
) -> None:
    workflow_id = await _start_migrate(temporal_client, workflows)
    run_id = (await temporal_client.get_workflow_handle(workflow_id).describe()).run_id

    status = await get_status(
        temporal_client, StatusRequest(workflow_id, run_id=run_id, describe=True, history=True)
    )

    report = status.to_emco_dict()
    assert report["runID"] == run_id
    info = report["workflowExecutionDescription"]["workflow_execution_info"]
    assert info["execution"] == {"workflow_id": workflow_id, "run_id": run_id}
    assert info["type"] == {"name": "EmcoMigrateWorkflow"}
    assert info["status"] == "WORKFLOW_EXECUTION_STATUS_RUNNING"
    assert report["workflowHistory"][0]["event_type"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
    assert "workflowResult" not in report
    json.dumps(report)  # printable as it is


async def test_query_running_and_result_after_wait(
    temporal_client: Client, workflows: Workflows, task_queue: str, gate_worker: Worker
) -> None:
    workflow_id = await _start_gate(temporal_client, workflows, task_queue)

    running = await get_status(
        temporal_client, StatusRequest(workflow_id, query_type=QUERY_CURRENT_STATE)
    )
    await temporal_client.get_workflow_handle(workflow_id).signal(GateWorkflow.finish, "ok")
    waited = await get_status(
        temporal_client,
        StatusRequest(workflow_id, wait=True, describe=True, query_type=QUERY_CURRENT_STATE),
    )

    assert running.to_emco_dict()["workflowQueryResult"] == "waiting"
    assert "workflowResult" not in running.to_emco_dict()
    report = waited.to_emco_dict()
    assert report["workflowResult"] == {"greeting": "hello emco", "count": 2}
    assert report["workflowQueryResult"] == "completed"
    status_name = report["workflowExecutionDescription"]["workflow_execution_info"]["status"]
    assert status_name == "WORKFLOW_EXECUTION_STATUS_COMPLETED"


async def test_closed_workflow_is_queried_by_replay_and_shows_its_result(
    temporal_client: Client, workflows: Workflows, task_queue: str
) -> None:
    async with Worker(
        temporal_client,
        task_queue=task_queue,
        workflows=[GateWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        workflow_id = await _start_gate(temporal_client, workflows, task_queue)
        handle = temporal_client.get_workflow_handle(workflow_id)
        await handle.signal(GateWorkflow.finish, "ok")
        await handle.result()

    # A fresh worker with no cache: the query can only be answered by replaying history.
    async with Worker(
        temporal_client,
        task_queue=task_queue,
        workflows=[GateWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
        max_cached_workflows=0,
    ):
        status = await get_status(
            temporal_client, StatusRequest(workflow_id, query_type=QUERY_CURRENT_STATE)
        )

    assert status.to_emco_dict()["workflowQueryResult"] == "completed"
    assert status.to_emco_dict()["workflowResult"] == {"greeting": "hello emco", "count": 2}


async def test_wait_on_a_failing_workflow_reports_no_result(
    temporal_client: Client, workflows: Workflows, task_queue: str, gate_worker: Worker
) -> None:
    workflow_id = await _start_gate(temporal_client, workflows, task_queue)
    await temporal_client.get_workflow_handle(workflow_id).signal(GateWorkflow.finish, "fail")

    status = await get_status(temporal_client, StatusRequest(workflow_id, wait=True))

    assert status.status is WorkflowExecutionStatus.FAILED
    assert not status.has_result
    assert status.failure is not None and "asked to fail" in status.failure
    assert "workflowResult" not in status.to_emco_dict()


async def test_query_without_a_worker_fails_with_a_clear_error(
    temporal_client: Client, workflows: Workflows
) -> None:
    workflow_id = await _start_migrate(temporal_client, workflows)
    request = StatusRequest(
        workflow_id, query_type=QUERY_CURRENT_STATE, query_timeout=timedelta(seconds=1)
    )

    with pytest.raises(QueryFailed) as caught:
        await get_status(temporal_client, request)

    assert f"query 'current-state' on workflow {workflow_id!r}" in str(caught.value)


async def test_missing_workflow_is_not_found(temporal_client: Client) -> None:
    with pytest.raises(WorkflowNotFound) as caught:
        await get_status(temporal_client, StatusRequest("wfc-test-does-not-exist"))

    assert "workflow 'wfc-test-does-not-exist' not found" in str(caught.value)


# ----------------------------------------------------------------- cancel / terminate


async def test_cancel_requests_cancellation(temporal_client: Client, workflows: Workflows) -> None:
    workflow_id = await _start_migrate(temporal_client, workflows)

    await cancel_workflow(temporal_client, workflow_id, reason="operator asked")

    history = await temporal_client.get_workflow_handle(workflow_id).fetch_history()
    requested = [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED
    ]
    assert len(requested) == 1
    assert requested[0].workflow_execution_cancel_requested_event_attributes.cause == (
        "operator asked"
    )


async def test_cancelled_gate_workflow_closes_canceled(
    temporal_client: Client, workflows: Workflows, task_queue: str, gate_worker: Worker
) -> None:
    workflow_id = await _start_gate(temporal_client, workflows, task_queue)

    await cancel_workflow(temporal_client, workflow_id)

    async def canceled() -> bool:
        return await status_of(temporal_client, workflow_id) is WorkflowExecutionStatus.CANCELED

    await wait_for(canceled, what="the workflow to close as cancelled")


async def test_terminate_records_reason_and_details(
    temporal_client: Client, workflows: Workflows
) -> None:
    workflow_id = await _start_migrate(temporal_client, workflows)

    await terminate_workflow(
        temporal_client, workflow_id, reason="stuck", details=["ticket-42", {"by": "ops"}]
    )

    history = await temporal_client.get_workflow_handle(workflow_id).fetch_history()
    last = history.events[-1]
    assert last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED
    attributes = last.workflow_execution_terminated_event_attributes
    assert attributes.reason == "stuck"
    decoded = await temporal_client.data_converter.decode(attributes.details.payloads)
    assert decoded == ["ticket-42", {"by": "ops"}]
    assert await status_of(temporal_client, workflow_id) is WorkflowExecutionStatus.TERMINATED


async def test_cancel_of_a_missing_workflow_is_not_found(temporal_client: Client) -> None:
    with pytest.raises(WorkflowNotFound):
        await cancel_workflow(temporal_client, "wfc-test-does-not-exist")


# ----------------------------------------------------------------- command lines


async def test_status_command_prints_the_report(
    temporal_client: Client,
    temporal_address: str,
    workflows: Workflows,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workflow_id = await _start_migrate(temporal_client, workflows)

    code = await asyncio.to_thread(
        cli.main, ["status", workflow_id, "--describe", "--history", "--address", temporal_address]
    )

    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith('{\n  "workflowID": ')
    report = json.loads(out)
    assert report["workflowID"] == workflow_id
    assert report["workflowExecutionDescription"]["workflow_execution_info"]["status"] == (
        "WORKFLOW_EXECUTION_STATUS_RUNNING"
    )
    assert len(report["workflowHistory"]) >= 1
    # Payloads read as the JSON they hold (the workflow's input here), not base64.
    started = report["workflowHistory"][0]["workflow_execution_started_event_attributes"]
    [params] = started["input"]["payloads"]
    assert isinstance(params, dict) and "metadata" not in params, params


async def test_status_command_waits_for_the_result(
    temporal_client: Client,
    temporal_address: str,
    workflows: Workflows,
    task_queue: str,
    gate_worker: Worker,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workflow_id = await _start_gate(temporal_client, workflows, task_queue)
    command = asyncio.create_task(
        asyncio.to_thread(
            cli.main,
            [
                "status",
                workflow_id,
                "--wait",
                "--query",
                "current-state",
                "--address",
                temporal_address,
            ],
        )
    )
    await temporal_client.get_workflow_handle(workflow_id).signal(GateWorkflow.finish, "ok")

    code = await asyncio.wait_for(command, 60)

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["workflowResult"] == {"greeting": "hello emco", "count": 2}
    assert report["workflowQueryResult"] == "completed"


async def test_status_command_wait_on_a_failed_workflow_exits_non_zero(
    temporal_client: Client,
    temporal_address: str,
    workflows: Workflows,
    task_queue: str,
    gate_worker: Worker,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workflow_id = await _start_gate(temporal_client, workflows, task_queue)
    await temporal_client.get_workflow_handle(workflow_id).signal(GateWorkflow.finish, "fail")

    code = await asyncio.to_thread(
        cli.main, ["status", workflow_id, "--wait", "--address", temporal_address]
    )

    captured = capsys.readouterr()
    assert code == 1
    assert json.loads(captured.out)["workflowID"] == workflow_id
    assert captured.err.strip() == (
        f"emco-migrate status: error: workflow {workflow_id!r} ended FAILED without a result: "
        "ApplicationError: asked to fail"
    )


def test_status_command_for_a_missing_workflow_is_one_line(
    temporal_address: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["status", "wfc-test-nope", "--address", temporal_address])

    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.startswith("emco-migrate status: error: workflow 'wfc-test-nope' not found")
    assert captured.err.count("\n") == 1


def test_status_command_with_temporal_down_is_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = cli.main(["status", "w", "--address", f"127.0.0.1:{free_port()}"])

    err = capsys.readouterr().err
    assert code == 3
    assert "cannot reach Temporal" in err
    assert err.count("\n") == 1


async def test_cancel_command_cancels_and_terminates(
    temporal_client: Client,
    temporal_address: str,
    workflows: Workflows,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workflow_id = await _start_migrate(temporal_client, workflows)

    cancelled = await asyncio.to_thread(
        cli.main, ["cancel", workflow_id, "--address", temporal_address]
    )
    terminated = await asyncio.to_thread(
        cli.main,
        ["cancel", workflow_id, "--terminate", "--reason", "done", "--address", temporal_address],
    )

    out = capsys.readouterr().out.splitlines()
    assert (cancelled, terminated) == (0, 0)
    assert out == [
        f"cancellation requested for workflow {workflow_id}",
        f"terminated workflow {workflow_id}",
    ]
    types = await _history_types(temporal_client, workflow_id)
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED in types
    assert types[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED


def test_cancel_command_for_a_missing_workflow_is_one_line(
    temporal_address: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["cancel", "wfc-test-nope", "--terminate", "--address", temporal_address])

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("emco-migrate cancel: error: workflow 'wfc-test-nope' not found")
    assert err.count("\n") == 1
