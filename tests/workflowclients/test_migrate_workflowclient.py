"""The migrate workflow client against a real Temporal dev server (no worker: runs stay open).

Runs start on the test's own task queue (the ``task_queue`` fixture), as a deployment's
configured queue; only the tests whose point is the production default use MIGRATION_TASK_Q.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from emco_migrate import cli
from emco_migrate.devstack.processes import free_port
from emco_migrate.emcomigrate.names import TASK_QUEUE, WORKFLOW_NAME
from emco_migrate.wire.temporal import TemporalSpec
from emco_migrate.workflowclients.errors import InvalidSpec, WorkflowAlreadyRunning
from emco_migrate.workflowclients.migrate_workflowclient.client import MigrateWorkflowClient
from emco_migrate.workflowclients.start_options import registered_search_attributes
from support.waiting import wait_for

from .helpers import (
    INVOKE_BODY,
    VECTOR_WORKFLOW_ID,
    WORKFLOW_INPUT,
    Workflows,
    spec_body,
    started_event_input,
    status_of,
)

pytestmark = pytest.mark.integration


async def test_invoke_vector_starts_the_workflow_by_name_with_go_input_bytes(
    temporal_client: Client, workflows: Workflows
) -> None:
    # The production default: EMCO's own body starts on MIGRATION_TASK_Q (no worker polls
    # it here, and the run is terminated at the end).
    workflows.track(VECTOR_WORKFLOW_ID)
    spec = TemporalSpec.from_json(INVOKE_BODY)

    started = await MigrateWorkflowClient().start(temporal_client, spec)

    assert started.workflow_id == VECTOR_WORKFLOW_ID
    description = await temporal_client.get_workflow_handle(VECTOR_WORKFLOW_ID).describe()
    assert description.run_id == started.run_id
    assert description.workflow_type == WORKFLOW_NAME
    assert description.task_queue == TASK_QUEUE
    assert description.status is WorkflowExecutionStatus.RUNNING
    payload = await started_event_input(temporal_client, VECTOR_WORKFLOW_ID)
    assert payload.metadata["encoding"] == b"json/plain"
    assert payload.data == WORKFLOW_INPUT


async def test_start_options_reach_temporal(
    temporal_client: Client, workflows: Workflows, task_queue: str
) -> None:
    workflow_id = workflows.new_id()
    spec = TemporalSpec.from_json(
        spec_body(
            workflow_id,
            WorkflowExecutionTimeout=3_600_000_000_000,
            WorkflowRunTimeout=1_800_000_000_000,
            WorkflowTaskTimeout=15_000_000_000,
            RetryPolicy={"InitialInterval": 2_000_000_000, "MaximumAttempts": 4},
            CronSchedule="0 3 * * *",
            Memo={"requestedBy": "emco", "priority": 2},
        )
    )

    await MigrateWorkflowClient(task_queue=task_queue).start(temporal_client, spec)

    history = await temporal_client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.workflow_execution_timeout.ToTimedelta() == timedelta(hours=1)
    assert started.workflow_run_timeout.ToTimedelta() == timedelta(minutes=30)
    assert started.workflow_task_timeout.ToTimedelta() == timedelta(seconds=15)
    assert started.retry_policy.initial_interval.ToTimedelta() == timedelta(seconds=2)
    assert started.retry_policy.maximum_attempts == 4
    assert started.retry_policy.backoff_coefficient == 2.0
    assert started.cron_schedule == "0 3 * * *"
    assert {k: v.data for k, v in started.memo.fields.items()} == {
        "priority": b"2",
        "requestedBy": b'"emco"',
    }


async def test_task_queue_is_forced_with_a_warning(
    temporal_client: Client, workflows: Workflows, caplog: pytest.LogCaptureFixture
) -> None:
    # The production default: without a configured queue the client forces MIGRATION_TASK_Q.
    workflow_id = workflows.new_id()
    spec = TemporalSpec.from_json(spec_body(workflow_id, TaskQueue="SOMEWHERE_ELSE"))

    with caplog.at_level(logging.WARNING):
        await MigrateWorkflowClient().start(temporal_client, spec)

    description = await temporal_client.get_workflow_handle(workflow_id).describe()
    assert description.task_queue == TASK_QUEUE
    assert any(
        "SOMEWHERE_ELSE" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records
    )


@pytest.mark.parametrize(("requested", "warned"), [("SOMEWHERE_ELSE", True), (TASK_QUEUE, False)])
async def test_a_configured_task_queue_is_forced(
    temporal_client: Client,
    workflows: Workflows,
    task_queue: str,
    caplog: pytest.LogCaptureFixture,
    requested: str,
    warned: bool,
) -> None:
    # MIGRATION_TASK_Q, as the Go samples spell it, means the deployment's queue: no warning.
    workflow_id = workflows.new_id()
    spec = TemporalSpec.from_json(spec_body(workflow_id, TaskQueue=requested))

    with caplog.at_level(logging.WARNING):
        await MigrateWorkflowClient(task_queue=task_queue).start(temporal_client, spec)

    description = await temporal_client.get_workflow_handle(workflow_id).describe()
    assert description.task_queue == task_queue
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [w for w in warnings if "TaskQueue" in w] == (
        [f"workflowStartOptions.TaskQueue {requested!r} ignored: the migrate workflow runs on "
         f"{task_queue}"] if warned else []
    )  # fmt: skip


@pytest.mark.parametrize(
    ("queue", "refused"),
    [("", False), (TASK_QUEUE, False), ("own", False), ("nobody-polls", True)],
)
def test_activity_options_task_queue_is_checked_against_the_configured_queue(
    task_queue: str, queue: str, refused: bool
) -> None:
    queue = task_queue if queue == "own" else queue
    options = {"all-activities": {"StartToCloseTimeout": 10**9, "TaskQueue": queue}}
    body = json.loads(spec_body("w"))
    body["workflowParams"]["activityOptions"] = options
    spec = TemporalSpec.from_json(json.dumps(body).encode())
    client = MigrateWorkflowClient(task_queue=task_queue)
    if not refused:
        client.check(spec)
        return
    with pytest.raises(InvalidSpec) as caught:
        client.check(spec)
    assert caught.value.field == "workflowParams.activityOptions['all-activities'].TaskQueue"
    assert f"neither {TASK_QUEUE} nor {task_queue!r}" in str(caught.value)


async def test_search_attributes_are_typed_from_the_namespace(
    temporal_client: Client, workflows: Workflows, task_queue: str
) -> None:
    await _register_search_attributes(
        temporal_client,
        {
            "EmcoTestOwner": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
            "EmcoTestAttempt": IndexedValueType.INDEXED_VALUE_TYPE_INT,
            "EmcoTestDeadline": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
        },
    )
    workflow_id = workflows.new_id()
    spec = TemporalSpec.from_json(
        spec_body(
            workflow_id,
            SearchAttributes={
                "EmcoTestOwner": "team-a",
                "EmcoTestAttempt": 3,
                "EmcoTestDeadline": "2030-01-02T03:04:05Z",
            },
        )
    )

    await MigrateWorkflowClient(task_queue=task_queue).start(temporal_client, spec)

    attributes = (
        await temporal_client.get_workflow_handle(workflow_id).describe()
    ).typed_search_attributes
    assert attributes[SearchAttributeKey.for_keyword("EmcoTestOwner")] == "team-a"
    assert attributes[SearchAttributeKey.for_int("EmcoTestAttempt")] == 3
    assert attributes[SearchAttributeKey.for_datetime("EmcoTestDeadline")] == datetime(
        2030, 1, 2, 3, 4, 5, tzinfo=UTC
    )


async def test_unregistered_search_attribute_is_refused(temporal_client: Client) -> None:
    spec = TemporalSpec.from_json(
        spec_body("never-started", SearchAttributes={"NoSuchAttribute": "x"})
    )

    with pytest.raises(InvalidSpec) as caught:
        await MigrateWorkflowClient().start(temporal_client, spec)

    assert caught.value.field == "workflowStartOptions.SearchAttributes['NoSuchAttribute']"


async def test_second_start_of_a_running_id_is_refused(
    temporal_client: Client, workflows: Workflows, task_queue: str
) -> None:
    workflow_id = workflows.new_id()
    spec = TemporalSpec.from_json(spec_body(workflow_id))
    client = MigrateWorkflowClient(task_queue=task_queue)
    first = await client.start(temporal_client, spec)

    with pytest.raises(WorkflowAlreadyRunning) as caught:
        await client.start(temporal_client, spec)

    assert caught.value.workflow_id == workflow_id
    assert (await temporal_client.get_workflow_handle(workflow_id).describe()).run_id == (
        first.run_id
    )


async def test_reject_duplicate_refuses_a_closed_id_and_allow_duplicate_reuses_it(
    temporal_client: Client, workflows: Workflows, task_queue: str
) -> None:
    workflow_id = workflows.new_id()
    rejecting = TemporalSpec.from_json(spec_body(workflow_id, WorkflowIDReusePolicy=3))
    allowing = TemporalSpec.from_json(spec_body(workflow_id, WorkflowIDReusePolicy=1))
    client = MigrateWorkflowClient(task_queue=task_queue)
    first = await client.start(temporal_client, rejecting)
    await temporal_client.get_workflow_handle(workflow_id).terminate(reason="test")

    with pytest.raises(WorkflowAlreadyRunning):
        await client.start(temporal_client, rejecting)
    second = await client.start(temporal_client, allowing)

    assert second.run_id != first.run_id
    assert await status_of(temporal_client, workflow_id) is WorkflowExecutionStatus.RUNNING


# ----------------------------------------------------------------- command lines


async def test_start_subcommand_prints_ids(
    temporal_client: Client,
    temporal_address: str,
    workflows: Workflows,
    task_queue: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workflow_id = workflows.new_id()
    spec_file = tmp_path / "spec.json"
    spec_file.write_bytes(spec_body(workflow_id))

    code = await asyncio.to_thread(
        cli.main,
        ["start", "-a", str(spec_file), "--address", temporal_address, "--task-queue", task_queue],
    )

    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    description = await temporal_client.get_workflow_handle(workflow_id).describe()
    assert printed == {"workflowID": workflow_id, "runID": description.run_id}
    assert description.task_queue == task_queue


async def test_console_script_starts_the_workflow_on_the_queue_the_environment_names(
    temporal_client: Client,
    temporal_address: str,
    workflows: Workflows,
    task_queue: str,
    tmp_path: Path,
) -> None:
    workflow_id = workflows.new_id()
    spec_file = tmp_path / "spec.json"
    spec_file.write_bytes(spec_body(workflow_id))
    script = Path(sys.executable).parent / "migrate_workflowclient"

    process = await asyncio.create_subprocess_exec(
        str(script),
        "-a",
        str(spec_file),
        "--address",
        temporal_address,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "EMCO_MIGRATE_TASK_QUEUE": task_queue},
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 0, stderr.decode()
    assert json.loads(stdout)["workflowID"] == workflow_id
    description = await temporal_client.get_workflow_handle(workflow_id).describe()
    assert description.task_queue == task_queue
    payload = await started_event_input(temporal_client, workflow_id)
    assert payload.data == WORKFLOW_INPUT


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (spec_body(None), "workflowStartOptions.ID: is required"),
        (b'{"workflowStartOptions": {"ID": 5}}', "workflowStartOptions.ID: "),
        (b"{not json", "malformed JSON"),
    ],
)
def test_start_refuses_a_bad_spec_in_one_line(
    content: bytes, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec_file = tmp_path / "spec.json"
    spec_file.write_bytes(content)

    code = cli.main(["start", "-a", str(spec_file), "--address", f"127.0.0.1:{free_port()}"])

    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "\n" not in err
    assert message in err


def test_start_reports_unreachable_temporal_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec_file = tmp_path / "spec.json"
    spec_file.write_bytes(INVOKE_BODY)
    address = f"127.0.0.1:{free_port()}"

    code = cli.main(["start", "-a", str(spec_file), "--address", address])

    err = capsys.readouterr().err.strip()
    assert code == 3
    assert err.startswith("emco-migrate start: error: cannot reach Temporal at " + address)
    assert "\n" not in err


def test_start_reports_a_missing_spec_file(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["start", "-a", "/nonexistent/spec.json"])

    assert code == 1
    assert "cannot read /nonexistent/spec.json" in capsys.readouterr().err


async def _register_search_attributes(
    client: Client, attributes: dict[str, IndexedValueType.ValueType]
) -> None:
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=attributes)
        )
    except RPCError as err:  # registered by an earlier run against the same server
        if err.status is not RPCStatusCode.ALREADY_EXISTS:
            raise

    async def registered() -> bool:
        return set(attributes) <= set(await registered_search_attributes(client))

    await wait_for(registered, what="search attributes to be registered")


def test_start_refuses_a_bad_task_queue_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec_file = tmp_path / "spec.json"
    spec_file.write_bytes(INVOKE_BODY)

    code = cli.main(
        ["start", "-a", str(spec_file), "--task-queue", "", "--address", f"127.0.0.1:{free_port()}"]
    )

    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err == (
        "emco-migrate start: error: --task-queue must not be empty (default: MIGRATION_TASK_Q)"
    )
