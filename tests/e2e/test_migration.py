"""The migrate workflow against a real Temporal dev server and the EMCO emulator over HTTP."""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from emco_migrate.devstack.processes import ManagedProcess, free_port
from emco_migrate.emcomigrate.names import QUERY_CURRENT_STATE
from support.emulator import Emulator, SampleSetup
from support.stack import VECTORS, Starter, vector_input
from support.waiting import wait_for

from .helpers import (
    app_intent,
    instantiated_revisions,
    placement,
    progress,
    start_migration,
)

pytestmark = pytest.mark.integration

FAST_RETRIES = {
    "all-activities": {
        "StartToCloseTimeout": 30_000_000_000,
        "RetryPolicy": {"InitialInterval": 1_000_000_000, "MaximumInterval": 1_000_000_000},
    }
}


async def test_go_sample_options_migrate_and_verify(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    before = app_intent(setup)
    # The Go sample's options as they are: 5 ms heartbeat, 10 ns retry interval.
    handle = await start_migration(starter, setup)
    result: dict[str, Any] = await handle.result()

    assert await handle.query(QUERY_CURRENT_STATE) == "completed"
    after = app_intent(setup)
    assert after["spec"]["intent"] == {
        "allOf": [{"clusterProvider": "provider2", "cluster": "cluster2"}]
    }
    assert after["metadata"] == before["metadata"]
    assert after["spec"]["app"] == "collectd"
    assert instantiated_revisions(setup) == [1, 2]
    # Verified: Ready on the target, gone from the source, before the workflow completed.
    assert placement(emulator_reset, setup) == {"provider2+cluster2": ["Ready", "Ready"]}
    # Go-shaped result, our fields beside it
    assert result["AppNameIntentPairs"] == {
        setup.gpi: [{"AppName": "collectd", "AppIntentName": setup.app_intent}]
    }
    assert result["GenericPlacementIntentURL"] == (
        f"{setup.url}{setup.dig_path}/generic-placement-intents"
    )
    assert result["GenericPlacementIntents"] is None
    assert result["InParams"] == setup.activity_params()
    assert (result["phase"], result["baseRevision"], result["newRevision"]) == ("completed", 1, 2)
    assert [a["status"] for a in result["apps"]] == ["done"]


async def test_result_payload_is_go_json(
    worker: Worker, starter: Starter, sample_setup: SampleSetup
) -> None:
    handle = await start_migration(starter, sample_setup)
    await handle.result()
    history = await handle.fetch_history()
    [event] = [
        e for e in history.events if e.HasField("workflow_execution_completed_event_attributes")
    ]
    payload = event.workflow_execution_completed_event_attributes.result.payloads[0]
    assert payload.metadata["encoding"] == b"json/plain"
    text = payload.data.decode()
    # Go's declaration order, compact, integers never floats
    assert text.startswith('{"InParams":{"compositeApp":"capp1",')
    assert '"GenericPlacementIntents":null,"AppNameIntentPairs":{' in text
    assert '"baseRevision":1,"newRevision":2,' in text
    assert ".0," not in text


async def test_current_state_moves_through_every_activity_and_503s_are_retried(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    # 503s that outlast the EMCO client's three tries of a GET or PUT, and one on the POST,
    # keep each step visible for a retry interval (1 s).
    emulator_reset.add_fault(
        f"^{setup.dig_path}/generic-placement-intents$", 503, method="GET", count=3
    )
    emulator_reset.add_fault(f"^{setup.dig_path}/status$", 503, method="GET", count=3)
    emulator_reset.add_fault(f"^{setup.app_intent_path}$", 503, method="PUT", count=3)
    emulator_reset.add_fault(f"^{setup.dig_path}/update$", 503, method="POST")
    emulator_reset.set_cluster("provider2", "cluster2", ready_delay_seconds=1.0)
    handle = await start_migration(starter, setup, options=FAST_RETRIES, writeSettleSeconds="1")

    seen: list[str] = []

    async def record_until_completed() -> bool:
        state: str = await handle.query(QUERY_CURRENT_STATE)
        if not seen or seen[-1] != state:
            seen.append(state)
        return state == "completed"

    await wait_for(record_until_completed, within=60, what="current-state 'completed'")
    await handle.result()
    assert [s for s in seen if s != "started"] == [
        "GetDigAppIntents",
        "SnapshotMigration",
        "UpdateAppIntents",
        "DoDigUpdate",
        "VerifyMigration",
        "completed",
    ]
    assert emulator_reset.faults() == []  # every injected 503 was hit, and retried
    assert instantiated_revisions(setup) == [1, 2]  # one /update despite its 503


async def test_emco_404_fails_fast_without_retries(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    emulator_reset.add_fault(
        f"^{setup.dig_path}/generic-placement-intents$", 404, method="GET", count=5
    )
    handle = await start_migration(starter, setup)
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    assert await handle.query(QUERY_CURRENT_STATE) == "GetDigAppIntents"
    [fault] = emulator_reset.faults()
    assert fault.remaining == 4  # exactly one request: no retry
    message = str(caught.value.cause)
    assert "GetDigAppIntents failed: EMCO answered 404" in message
    assert instantiated_revisions(setup) == [1]


@pytest.mark.parametrize(
    ("input_json", "expected"),
    [
        (b'{"activityParams":{"all-activities":{"emcoURL":"http://x"}}}',
         "missing required parameters: project, compositeApp"),
        (vector_input(emcoURL="192.168.1.201:30415"), "emcoURL: must be an http(s) URL"),
        (b'{"activityOptions":{"all-activities":{"StartToCloseTimeout":"60s"}}}',
         "activityOptions['all-activities'].StartToCloseTimeout"),
        (b'{"activityOptions":{"Migrate":{"StartToCloseTimeout":1}}}',
         "Invalid activity name in params: Migrate"),
        (b"[]", "expected an object (WorkflowParams), got array"),
    ],
)  # fmt: skip
async def test_bad_input_fails_the_workflow_naming_the_field(
    worker: Worker, starter: Starter, input_json: bytes, expected: str
) -> None:
    handle = await starter.start(input_json)
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "InvalidWorkflowParams"
    assert cause.non_retryable
    assert expected in str(cause)
    report = await progress(handle)
    assert report["phase"] == "failed"
    assert report["message"].startswith("nothing was changed: invalid")


async def test_go_invoke_body_through_the_http_server(
    worker: Worker, sample_setup: SampleSetup, temporal_client: Client, tmp_path: Path,
    temporal_address: str, task_queue: str,
) -> None:  # fmt: skip
    """EMCO's exact invoke bytes (only the IDs and addresses swapped) -> 204 -> migrated,
    on the task queue the server's EMCO_MIGRATE_TASK_QUEUE names (the body says
    MIGRATION_TASK_Q, as the Go samples do: the deployment's queue)."""
    setup = sample_setup
    body = (VECTORS / "invoke-body-04.json").read_bytes()
    workflow_id = f"invoke-{uuid.uuid4()}"
    for old, new in (
        ("migrate-apps-1", workflow_id),
        ("http://192.168.1.201:30415", setup.url),
        ('"project":"proj1"', f'"project":"{setup.project}"'),
        ('"compositeApp":"capp1"', f'"compositeApp":"{setup.composite_app}"'),
        ('"deploymentIntentGroup":"dig1"', f'"deploymentIntentGroup":"{setup.dig}"'),
    ):
        assert body.count(old.encode()) == 1
        body = body.replace(old.encode(), new.encode())
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    env["TEMPORAL_ADDRESS"] = temporal_address
    env["EMCO_MIGRATE_TASK_QUEUE"] = task_queue
    server = ManagedProcess(
        "http-server",
        [sys.executable, "-m", "emco_migrate", "http-server", "--host", "127.0.0.1",
         "--port", str(port)],
        log_path=tmp_path / "http-server.log", env=env,
    )  # fmt: skip
    server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            await wait_for(
                lambda: _ready(http), within=30, what=f"http-server ({server.log_tail()})"
            )
            response = await http.post(
                "/invoke/migrate_workflowclient",
                content=body,
                headers={"Content-Type": "application/json"},
            )
        assert response.status_code == 204, response.text
        handle = temporal_client.get_workflow_handle(workflow_id)
        try:
            result: dict[str, Any] = await handle.result()
        finally:
            with contextlib.suppress(Exception):
                await handle.terminate("test teardown")
    finally:
        server.stop()
    assert await handle.query(QUERY_CURRENT_STATE) == "completed"
    assert app_intent(setup)["spec"]["intent"]["allOf"] == [
        {"clusterProvider": "provider2", "cluster": "cluster2"}
    ]
    assert instantiated_revisions(setup) == [1, 2]
    assert list(result)[:4] == [
        "InParams", "GenericPlacementIntentURL", "GenericPlacementIntents", "AppNameIntentPairs",
    ]  # fmt: skip


async def _ready(http: httpx.AsyncClient) -> bool:
    try:
        return (await http.get("/readyz")).status_code == 200
    except httpx.TransportError:
        return False
