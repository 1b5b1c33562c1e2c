"""`status` says what a run waits for, never hangs without a worker, and reads back EMCO."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.api.failure.v1 import Failure
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker

from emco_migrate import cli
from emco_migrate.devstack.processes import free_port
from emco_migrate.emcomigrate.emco_client import new_http_client
from emco_migrate.emcomigrate.names import QUERY_PROGRESS, WORKFLOW_NAME
from emco_migrate.emcomigrate.types import DigRef
from emco_migrate.worker.main import activity_methods, workflow_classes
from emco_migrate.workflowclients.errors import NoWorkerPolling
from emco_migrate.workflowclients.inspection import StatusRequest, get_status
from emco_migrate.workflowclients.inspection.activity import ActivityState, PendingActivity
from emco_migrate.workflowclients.inspection.emco_intents import (
    IntentState,
    PlannedIntent,
    read_intents,
    summary,
)
from emco_migrate.workflowclients.inspection.progress_report import ProgressAnswer
from emco_migrate.workflowclients.inspection.workers import workflow_pollers
from support.emulator import Emulator, SampleSetup
from support.stack import json_payload, vector_input
from support.waiting import wait_for

from .helpers import Workflows

# Retries a second apart, so a test sees several attempts quickly; heartbeats (which
# carry a cancellation to the activity, throttled to 80% of this timeout) every 4 s.
QUICK_RETRIES = {
    "all-activities": {
        "StartToCloseTimeout": 10_000_000_000,
        "HeartbeatTimeout": 5_000_000_000,
        "RetryPolicy": {
            "InitialInterval": 1_000_000_000,
            "BackoffCoefficient": 1,
            "MaximumInterval": 1_000_000_000,
        },
    }
}


@pytest.fixture
def task_queue() -> str:
    """A task queue only this test polls (or nobody does)."""
    return f"wfc-status-{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def migrate_worker(client: Client, task_queue: str) -> AsyncIterator[Worker]:
    """The real workflow and activities on the test's own task queue, once Temporal lists
    the worker as a poller (status does not query a task queue nobody polls)."""
    http = new_http_client()
    async with (
        http,
        Worker(
            client,
            task_queue=task_queue,
            workflows=workflow_classes(),
            activities=activity_methods(http),
        ) as worker,
    ):

        async def polling() -> bool:
            pollers = await workflow_pollers(client, task_queue)
            return pollers is not None and pollers.polled

        await wait_for(polling, what=f"a poller on {task_queue}")
        yield worker


async def _start(
    client: Client, workflows: Workflows, task_queue: str, input_json: bytes | None = None
) -> str:
    workflow_id = workflows.new_id("wfc-status")
    await client.start_workflow(
        WORKFLOW_NAME,
        json_payload(input_json or vector_input()),
        id=workflow_id,
        task_queue=task_queue,
    )
    return workflow_id


async def _progress(client: Client, workflow_id: str) -> dict[str, Any]:
    found = await get_status(client, StatusRequest(workflow_id, query_type=QUERY_PROGRESS))
    answer: dict[str, Any] = found.query_result
    return answer


async def _cancel_and_wait(client: Client, workflow_id: str) -> None:
    """Cancel and wait until the run has closed, while its worker still runs: a run left
    open would be evicted from the worker's cache mid-flight when the worker stops."""
    handle = client.get_workflow_handle(workflow_id)
    await handle.cancel()

    async def closed() -> bool:
        return (await handle.describe()).status is WorkflowExecutionStatus.CANCELED

    await wait_for(closed, within=30, what=f"{workflow_id} to end cancelled")


def _status_command(temporal_address: str, *args: str) -> Callable[[], int]:
    return lambda: cli.main(["status", *args, "--address", temporal_address])


# ----------------------------------------------------------------- no worker


@pytest.mark.integration
async def test_progress_without_a_worker_says_so_within_seconds(
    temporal_client: Client,
    temporal_address: str,
    workflows: Workflows,
    task_queue: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workflow_id = await _start(temporal_client, workflows, task_queue)
    command = _status_command(temporal_address, workflow_id, "--query", "progress")

    # Sent, the query would wait 30 s for a worker that does not exist.
    code = await asyncio.wait_for(asyncio.to_thread(command), timeout=5)

    captured = capsys.readouterr()
    reason = (
        f"no worker is polling task queue {task_queue!r}, so query 'progress' on workflow "
        f"{workflow_id!r} cannot be answered"
    )
    assert code == 1
    assert captured.err == f"emco-migrate status: error: {reason}\n"
    report = json.loads(captured.out)
    assert report["workflowStatus"] == "RUNNING"
    assert report["workflowQueryError"] == reason
    assert report["workflowActivity"] is None
    assert "workflowQueryResult" not in report


@pytest.mark.integration
async def test_plain_status_without_a_worker_warns_and_succeeds(
    temporal_client: Client,
    temporal_address: str,
    workflows: Workflows,
    task_queue: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workflow_id = await _start(temporal_client, workflows, task_queue)

    code = await asyncio.to_thread(_status_command(temporal_address, workflow_id, "--describe"))

    captured = capsys.readouterr()
    warning = (
        f"no worker is polling task queue {task_queue!r}: "
        "the workflow makes no progress until one does"
    )
    assert code == 0
    assert captured.err == f"emco-migrate status: warning: {warning}\n"
    report = json.loads(captured.out)
    assert report["workflowWarning"] == warning
    assert report["workflowExecutionDescription"]["workflow_execution_info"]["status"] == (
        "WORKFLOW_EXECUTION_STATUS_RUNNING"
    )


@pytest.mark.integration
async def test_emco_workflowmgr_status_without_a_worker_fails_at_once(
    temporal_client: Client,
    temporal_address: str,
    workflows: Workflows,
    task_queue: str,
    emulator: Emulator,
) -> None:
    workflow_id = await _start(temporal_client, workflows, task_queue)
    status_path = (
        "/v2/projects/p/composite-apps/ca/v1/deployment-intent-groups/dig"
        "/temporal-workflow-intents/wf/status"
    )
    params = {"temporalServer": temporal_address, "workflowID": workflow_id,
              "queryType": QUERY_PROGRESS}  # fmt: skip

    async with httpx.AsyncClient(base_url=emulator.url, timeout=5) as http:
        answer = await http.get(status_path, params=params)

    assert answer.status_code == 500
    assert answer.text.startswith(
        f"Query failed (progress). Error: no worker is polling task queue {task_queue!r}"
    )


@pytest.mark.integration
async def test_query_of_a_closed_run_without_a_worker_is_not_sent(
    temporal_client: Client, workflows: Workflows, task_queue: str
) -> None:
    workflow_id = await _start(temporal_client, workflows, task_queue)
    await temporal_client.get_workflow_handle(workflow_id).terminate(reason="by the test")

    with pytest.raises(NoWorkerPolling) as caught:
        await asyncio.wait_for(_progress(temporal_client, workflow_id), timeout=5)

    assert caught.value.task_queue == task_queue
    assert "queried by replaying it on a worker" in str(caught.value)
    report = caught.value.report.to_report()
    assert report["workflowStatus"] == "TERMINATED"
    assert report["workflowFailure"].startswith("TerminatedError")
    assert "workflowWarning" not in report


@pytest.mark.integration
async def test_a_stopped_workers_poller_counts_only_while_it_could_still_poll(
    temporal_client: Client, task_queue: str
) -> None:
    async with migrate_worker(temporal_client, task_queue):
        pass  # listed as a poller once it started

    # Temporal keeps listing the poller for five minutes after the worker stopped.
    soon = await workflow_pollers(temporal_client, task_queue)
    later = await workflow_pollers(
        temporal_client, task_queue, now=datetime.now(UTC) + timedelta(minutes=3)
    )

    assert soon is not None and soon.polled
    assert later is not None and not later.polled
    assert later.last_poll is not None
    assert later.absence().startswith(
        f"no worker is polling task queue {task_queue!r} (the last poll was at "
    )


@pytest.mark.integration
async def test_the_poller_check_looks_at_the_runs_own_task_queue(
    temporal_client: Client,
    temporal_address: str,
    workflows: Workflows,
    task_queue: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A worker polls one queue; a run on another queue nobody polls is reported as such,
    # and the run on the polled queue is queried: the queue comes from describing the run.
    unpolled = f"{task_queue}-unpolled"
    emco_url = f"http://127.0.0.1:{free_port()}"
    async with migrate_worker(temporal_client, task_queue):
        polled_id = await _start(
            temporal_client,
            workflows,
            task_queue,
            vector_input(options=QUICK_RETRIES, emcoURL=emco_url),
        )
        stranded_id = await _start(temporal_client, workflows, unpolled)
        stranded = await asyncio.to_thread(
            _status_command(temporal_address, stranded_id, "--query", "progress")
        )
        stranded_err = capsys.readouterr().err
        answered = await asyncio.to_thread(
            _status_command(temporal_address, polled_id, "--query", "progress")
        )
        answered_out = capsys.readouterr().out
        await _cancel_and_wait(temporal_client, polled_id)

    assert stranded == 1
    assert stranded_err == (
        f"emco-migrate status: error: no worker is polling task queue {unpolled!r}, so query "
        f"'progress' on workflow {stranded_id!r} cannot be answered\n"
    )
    assert answered == 0
    assert json.loads(answered_out)["workflowQueryResult"]["phase"]


# ----------------------------------------------------------------- retries and waits


@pytest.mark.integration
async def test_progress_shows_the_retrying_activity_and_its_last_error(
    temporal_client: Client,
    temporal_address: str,
    workflows: Workflows,
    task_queue: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    closed_port = free_port()
    emco_url = f"http://127.0.0.1:{closed_port}"
    async with migrate_worker(temporal_client, task_queue):
        workflow_id = await _start(
            temporal_client,
            workflows,
            task_queue,
            vector_input(options=QUICK_RETRIES, emcoURL=emco_url),
        )

        async def retrying() -> bool:
            activity = (await _progress(temporal_client, workflow_id))["activity"]
            return bool(activity and activity["attempt"] >= 2 and activity["nextRetryAt"])

        await wait_for(retrying, within=30, what="GetDigAppIntents to be retried")
        code = await asyncio.to_thread(
            _status_command(temporal_address, workflow_id, "--query", "progress")
        )
        await _cancel_and_wait(temporal_client, workflow_id)

    assert code == 0
    report = json.loads(capsys.readouterr().out)
    answer = report["workflowQueryResult"]
    activity = answer["activity"]
    assert activity["name"] == "GetDigAppIntents"
    assert activity["attempt"] >= 2
    assert activity["maximumAttempts"] is None  # unlimited
    assert activity["state"] in ("scheduled", "started")
    assert f"EMCO at {emco_url} unreachable" in activity["lastError"]
    assert "connection" in activity["lastError"].lower()
    assert len(activity["lastError"]) <= 300
    assert report["workflowActivity"]["name"] == "GetDigAppIntents"
    assert "\n" not in answer["message"]
    assert "GetDigAppIntents attempt " in answer["message"]
    assert " of unlimited failed: EMCO at " in answer["message"]
    # Every key the workflow reports is still there.
    assert {"phase", "strategy", "dryRun", "target", "dig", "plan", "apps", "steps"} <= set(answer)


@pytest.mark.integration
async def test_verification_wait_and_what_a_cancelled_run_left_in_emco(
    temporal_client: Client,
    workflows: Workflows,
    task_queue: str,
    emulator_reset: Emulator,
    sample_setup: SampleSetup,
) -> None:
    setup = sample_setup
    emulator_reset.set_cluster(*setup.target, never_ready=True)
    async with migrate_worker(temporal_client, task_queue):
        workflow_id = await _start(
            temporal_client,
            workflows,
            task_queue,
            # No writes are in doubt here: the rollback need not wait for late ones.
            vector_input(options=QUICK_RETRIES, writeSettleSeconds="0", **setup.activity_params()),
        )

        async def verifying() -> bool:
            activity = (await _progress(temporal_client, workflow_id))["activity"]
            waiting = activity["waitingFor"] if activity else []
            return any("provider2+cluster2" in w for w in waiting)

        await wait_for(verifying, within=30, what="VerifyMigration to wait for the target")
        running = await _progress(temporal_client, workflow_id)
        # Cancelled, the run puts the original app intent back before it ends.
        await _cancel_and_wait(temporal_client, workflow_id)
        ended = await _progress(temporal_client, workflow_id)

    assert running["activity"]["name"] == "VerifyMigration"
    assert "waiting for: " in running["message"]
    assert "provider2+cluster2" in running["message"]
    assert "intentsInEmco" not in running
    assert ended["phase"] == "cancelled"
    assert ended["activity"] is None
    assert ended["intentsInEmco"] == [
        {
            "app": "collectd",
            "appIntent": setup.app_intent,
            "placementIntent": setup.gpi,
            "state": "original",
            "placement": {"allOf": [{"clusterProvider": "provider1", "cluster": "cluster1"}]},
        }
    ]
    assert ended["message"].endswith("; app intents now in EMCO: collectd original")


# ----------------------------------------------------------------- pending activity (unit)


def _stamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def test_a_failed_attempt_waiting_for_its_retry_is_one_short_line() -> None:
    info = PendingActivityInfo(
        activity_type={"name": "GetDigAppIntents"},  # type: ignore[arg-type]
        state=PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
        attempt=4,
        last_failure=Failure(message="cannot reach EMCO:\n" + "x" * 500),
        next_attempt_schedule_time=_stamp(datetime(2026, 1, 2, 12, 0, 3)),
        expiration_time=_stamp(datetime(2026, 1, 2, 12, 10)),
    )

    activity = PendingActivity.from_proto(info)

    assert activity.state is ActivityState.SCHEDULED
    assert activity.last_error is not None and len(activity.last_error) == 300
    assert activity.summary().startswith(
        "GetDigAppIntents attempt 3 of unlimited failed: cannot reach EMCO: xxx"
    )
    assert activity.summary().endswith(
        "…; next try (attempt 4) at 12:00:03Z, gives up at 12:10:00Z"
    )
    assert activity.to_json() | {"lastError": None} == {
        "name": "GetDigAppIntents",
        "attempt": 4,
        "maximumAttempts": None,
        "state": "scheduled",
        "lastError": None,
        "lastAttemptAt": None,
        "nextRetryAt": "2026-01-02T12:00:03Z",
        "expiresAt": "2026-01-02T12:10:00Z",
        "waitingFor": [],
    }


def test_a_json_heartbeat_says_what_the_activity_waits_for() -> None:
    detail = {"polls": 3, "waitingFor": ["collectd on provider2+cluster2 is not Ready (x)"]}
    info = PendingActivityInfo(
        activity_type={"name": "VerifyMigration"},  # type: ignore[arg-type]
        state=PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
        attempt=1,
        maximum_attempts=5,
        heartbeat_details=Payloads(
            payloads=[
                Payload(metadata={"encoding": b"binary/plain"}, data=b"\x00"),
                Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(detail).encode()),
            ]
        ),
    )

    activity = PendingActivity.from_proto(info)

    assert activity.maximum_attempts == 5
    assert activity.waiting_for == ("collectd on provider2+cluster2 is not Ready (x)",)
    assert activity.summary() == "waiting for: collectd on provider2+cluster2 is not Ready (x)"


# ----------------------------------------------------------------- app intents in EMCO (unit)

DIG = DigRef(
    emco_url="http://emco:9015/",
    project="proj 1",
    composite_app="capp1",
    version="v1",
    dig="dig1",
)
SOURCE = {"allOf": [{"clusterProvider": "provider1", "cluster": "cluster1"}]}
TARGET = {"allOf": [{"clusterProvider": "provider2", "cluster": "cluster2"}]}
BOTH = {"allOf": [*SOURCE["allOf"], *TARGET["allOf"]]}


def _planned(app: str, *, interim: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {
        "app": app,
        "appIntent": f"{app}/intent",
        "placementIntent": "gpi",
        "currentPlacement": SOURCE,
        "newPlacement": TARGET,
    }
    if interim:
        item["interimPlacement"] = BOTH
    return item


def _progress_answer(*apps: dict[str, Any]) -> dict[str, Any]:
    return {
        "phase": "migrating",
        "message": "running VerifyMigration",
        "dig": {
            "emcoURL": DIG.emco_url,
            "project": DIG.project,
            "compositeApp": DIG.composite_app,
            "compositeAppVersion": DIG.version,
            "deploymentIntentGroup": DIG.dig,
        },
        "plan": list(apps),
    }


def _emco(
    placements: dict[str, dict[str, Any] | None], seen: list[httpx.Request]
) -> httpx.AsyncClient:
    """EMCO answering each app intent with a placement (None: 404; absent: refused)."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        name = request.url.raw_path.decode().rsplit("/", 1)[-1]
        app = name.split("%2F", 1)[0]
        if app not in placements:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        placement = placements[app]
        if placement is None:
            return httpx.Response(404, text="AppIntent not found")
        body = {"metadata": {"name": name}, "spec": {"app": app, "intent": placement}}
        return httpx.Response(200, json=body)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


async def test_app_intents_are_classified_against_the_plan() -> None:
    answer = _progress_answer(
        _planned("a"),
        _planned("b"),
        _planned("c", interim=True),
        _planned("d"),
        _planned("e"),
        _planned("f"),
    )
    changed = {"anyOf": [{"clusterProvider": "provider3", "cluster": "cluster3"}]}
    placements = {"a": dict(SOURCE), "b": json.loads(json.dumps(TARGET)), "c": BOTH,
                  "d": changed, "e": None}  # fmt: skip
    seen: list[httpx.Request] = []
    progress = ProgressAnswer.parse(answer)
    assert progress is not None and progress.dig == DIG

    async with _emco(placements, seen) as http:
        intents = await progress.intents_in_emco(http)

    assert [i.state for i in intents] == [
        IntentState.ORIGINAL,
        IntentState.WRITTEN,
        IntentState.INTERIM,
        IntentState.CHANGED,
        IntentState.MISSING,
        IntentState.UNKNOWN,
    ]
    assert [i.placement for i in intents] == [SOURCE, TARGET, BOTH, changed, None, None]
    assert intents[5].reason == (
        "EMCO at http://emco:9015/ unreachable: [Errno 111] Connection refused"
    )
    assert seen[0].url.raw_path.decode() == (
        "/v2/projects/proj%201/composite-apps/capp1/v1/deployment-intent-groups/dig1"
        "/generic-placement-intents/gpi/app-intents/a%2Fintent"
    )
    assert seen[0].headers["Accept"] == "application/json"
    assert summary(intents) == (
        "app intents now in EMCO: a original, "
        "b written by this run (points at provider2+cluster2), "
        "c interim placement of this run (points at provider1+cluster1, provider2+cluster2), "
        "d changed by someone else (points at provider3+cluster3), e missing, "
        "f unknown (EMCO at http://emco:9015/ unreachable: [Errno 111] Connection refused)"
    )


async def test_emco_down_makes_every_intent_unknown_and_says_so_once() -> None:
    progress = ProgressAnswer.parse(_progress_answer(_planned("a"), _planned("b")))
    assert progress is not None

    async with _emco({}, []) as http:
        intents = await progress.intents_in_emco(http)
    annotated = progress.annotated(None, intents)

    assert [i["state"] for i in annotated["intentsInEmco"]] == ["unknown", "unknown"]
    assert annotated["message"] == (
        "running VerifyMigration; app intents now in EMCO: unknown "
        "(EMCO at http://emco:9015/ unreachable: [Errno 111] Connection refused)"
    )
    assert annotated["activity"] is None
    assert annotated["phase"] == "migrating"


async def test_other_emco_answers_are_unknown_with_what_answered() -> None:
    # Not EMCO's one-line error: a proxy's (or any other service's) page is never shown.
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="upstream\nconnect error")

    planned = PlannedIntent.from_json(_planned("a"))
    assert planned is not None
    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as http:
        [intent] = await read_intents(http, DIG, [planned])

    assert intent.state is IntentState.UNKNOWN
    assert intent.reason is not None
    assert intent.reason.startswith("EMCO answered 503 to GET /v2/projects/proj%201/")
    assert intent.reason.endswith(": Service Unavailable (text/plain, 22 bytes, not shown)")
    assert intent.to_json()["reason"] == intent.reason
