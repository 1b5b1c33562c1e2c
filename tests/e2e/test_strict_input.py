"""Strict input (issue 10): a bad request is refused before anything starts, at /invoke
(400 naming the field) and by `start` (one line, exit 2); the workflow refuses it again
before any write; EMCO URLs are base URLs, checked against the allowlist, and a non-EMCO
answer's body is never shown. Real dev server, the emulator over HTTP."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from emco_migrate.emcomigrate.emco_client import new_http_client
from emco_migrate.emcomigrate.endpoints import EmcoUrlPolicy
from emco_migrate.emcomigrate.progress import AppStatus, Progress
from emco_migrate.temporal_connection import TemporalSettings
from emco_migrate.worker.main import activity_methods, workflow_classes
from emco_migrate.workflowclients.http_server.app import HttpServerSettings, create_app
from emco_migrate.workflowclients.migrate_workflowclient.client import MigrateWorkflowClient
from emco_migrate.workflowclients.registry import WorkflowClientRegistry
from support.emulator import Emulator, SampleSetup
from support.stack import Starter, vector_input

from .helpers import app_intent

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
INVOKE = "/invoke/migrate_workflowclient"
FIELD = "workflowParams.activityParams['all-activities']"
CANARY = f"CANARY-{uuid.uuid4().hex}"

# (extra params, field that must be named, words of the reason)
BAD_PARAMS: list[tuple[dict[str, str], str, str]] = [
    ({"DryRun": "true"}, f"{FIELD}.DryRun", "did you mean 'dryRun'?"),
    ({"dry_run": "true"}, f"{FIELD}.dry_run", "did you mean 'dryRun'?"),
    ({"colour": "blue"}, f"{FIELD}.colour", "unknown parameter 'colour'"),
    ({"strategy": "bogus"}, f"{FIELD}.strategy", "must be one of direct, make-before-break"),
    ({"dryRun": "maybe"}, f"{FIELD}.dryRun", 'must be "true" or "false"'),
    ({"verifyTimeoutSeconds": "-5"}, f"{FIELD}.verifyTimeoutSeconds", "between 1 and 604800"),
    ({"verifyTimeoutSeconds": "300000000000"}, f"{FIELD}.verifyTimeoutSeconds", "between"),
    ({"verifyTimeoutSeconds": "1" + "0" * 20}, f"{FIELD}.verifyTimeoutSeconds", "between"),
    ({"project": ""}, FIELD, "missing required parameters: project"),
    ({"emcoURL": "http://emco/secret?"}, f"{FIELD}.emcoURL", "must not have a query"),
    ({"emcoURL": "http://emco/secret#"}, f"{FIELD}.emcoURL", "must not have a fragment"),
    ({"clmURL": "http://u:pw@emco:1"}, f"{FIELD}.clmURL", "must not carry user info"),
    ({"dcmURL": "http://emco:1/x?y"}, f"{FIELD}.dcmURL", "must not have a query"),
]
BAD_OPTIONS: list[tuple[dict[str, Any], str, str]] = [
    (
        {"all-activities": {"StartToCloseTimeout": 10**9, "StartToCloseTimout": 5}},
        "workflowParams.activityOptions['all-activities'].StartToCloseTimout",
        "unknown field 'StartToCloseTimout'; did you mean 'StartToCloseTimeout'?",
    ),
    (
        {"all-activities": {"StartToCloseTimeout": 10**9, "RetryPolicy": {"maximumAttempt": 3}}},
        "workflowParams.activityOptions['all-activities'].RetryPolicy.maximumAttempt",
        "did you mean 'MaximumAttempts'?",
    ),
    (
        {"DoDigUpdat": {"StartToCloseTimeout": 10**9}},
        "workflowParams.activityOptions['DoDigUpdat']",
        "did you mean 'DoDigUpdate'?",
    ),
    (
        {"all-activities": {"StartToCloseTimeout": 10**9, "TaskQueue": "nobody-polls"}},
        "workflowParams.activityOptions['all-activities'].TaskQueue",
        "the only task queue",
    ),
    (
        {"all-activities": {"StartToCloseTimeout": 10**9, "ActivityID": "a" * 100_000}},
        "workflowParams.activityOptions['all-activities'].ActivityID",
        "at most 255",
    ),
]


def invoke_body(setup: SampleSetup, workflow_id: str, options: Any = None, **params: str) -> bytes:
    workflow_params = json.loads(
        vector_input(options=options, **{**setup.activity_params(), **params})
    )
    if params.get("project") == "":
        del workflow_params["activityParams"]["all-activities"]["project"]
    spec = {
        "workflowClientName": "migrate_workflowclient",
        "workflowStartOptions": {"ID": workflow_id, "TaskQueue": "MIGRATION_TASK_Q"},
        "workflowParams": workflow_params,
    }
    return json.dumps(spec).encode()


async def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``emco-migrate ARGS`` as a user runs it."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "emco_migrate", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


async def not_started(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        return err.status is RPCStatusCode.NOT_FOUND
    return False


@pytest.fixture
async def invoke(temporal_address: str, task_queue: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = HttpServerSettings(
        temporal=TemporalSettings(address=temporal_address), task_queue=task_queue
    )
    registry = WorkflowClientRegistry(
        {"migrate_workflowclient": MigrateWorkflowClient(EmcoUrlPolicy(), task_queue=task_queue)}
    )
    app = create_app(settings, registry=registry)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://wfc") as http:
            yield http


def _cases() -> list[tuple[dict[str, str], Any, str, str]]:
    return [(p, None, f, r) for p, f, r in BAD_PARAMS] + [({}, o, f, r) for o, f, r in BAD_OPTIONS]


@pytest.mark.parametrize(("params", "options", "field", "reason"), _cases())
async def test_bad_requests_are_refused_at_invoke_and_by_start_before_anything(
    invoke: httpx.AsyncClient,
    temporal_client: Client,
    temporal_address: str,
    task_queue: str,
    emulator: Emulator,
    sample_setup: SampleSetup,
    tmp_path: Path,
    params: dict[str, str],
    options: Any,
    field: str,
    reason: str,
) -> None:
    emulator.clear_requests()
    workflow_id = f"strict-{uuid.uuid4()}"
    body = invoke_body(sample_setup, workflow_id, options, **params)

    response = await invoke.post(INVOKE, content=body)

    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["field"] == field
    assert reason in answer["error"]

    spec = tmp_path / "spec.json"
    spec.write_bytes(body)
    start = await cli(
        "start", "-a", str(spec), "--address", temporal_address, "--task-queue", task_queue
    )
    assert start.returncode == 2, start.stderr
    [line] = start.stderr.strip().splitlines()
    assert field in line and reason in line

    assert await not_started(temporal_client, workflow_id)
    assert emulator.requests() == []


async def test_the_workflow_refuses_bad_params_itself_before_any_write(
    worker: Worker, starter: Starter, emulator: Emulator, sample_setup: SampleSetup
) -> None:
    # Started without our clients (e.g. by `temporal workflow start`): the workflow checks.
    emulator.clear_requests()
    params = {**sample_setup.activity_params(), "DryRun": "true"}
    handle = await starter.start(vector_input(options=None, **params))

    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()

    cause = caught.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidWorkflowParams"
    assert "did you mean 'dryRun'?" in cause.message
    assert emulator.requests() == []


class Canary(BaseHTTPRequestHandler):
    """An internal page that must never be shown: every path answers with the canary."""

    def do_GET(self) -> None:
        page = f"<html><body>internal page {CANARY}</body></html>".encode()
        status = 200 if self.path.startswith("/v2/projects") and "status" not in self.path else 404
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def canary_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Canary)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_a_canary_given_as_emco_url_never_has_its_body_shown(
    worker: Worker,
    starter: Starter,
    sample_setup: SampleSetup,
    canary_url: str,
    temporal_address: str,
) -> None:
    params = {**sample_setup.activity_params(), "emcoURL": f"{canary_url}/secret/"}
    handle = await starter.start(vector_input(options=None, **params))
    with pytest.raises(WorkflowFailureError):
        await handle.result()

    status = await cli("status", handle.id, "--address", temporal_address)
    history = json.dumps((await handle.fetch_history()).to_json_dict())
    assert "text/html" in status.stdout, status.stdout  # what answered is named
    assert CANARY not in status.stdout + status.stderr
    assert CANARY not in history


async def test_a_bug_before_any_write_fails_the_run_instead_of_its_tasks(
    worker: Worker,
    starter: Starter,
    emulator: Emulator,
    sample_setup: SampleSetup,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: Progress, snapshot: object) -> None:
        raise RuntimeError("planned() is broken")

    monkeypatch.setattr(Progress, "planned", broken)
    emulator.clear_requests()
    handle = await starter.start(vector_input(options=None, **sample_setup.activity_params()))

    with pytest.raises(WorkflowFailureError) as caught:
        await asyncio.wait_for(handle.result(), 30)

    cause = caught.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "MigrationInternalError"
    assert cause.message == "internal error in the workflow: RuntimeError: planned() is broken"
    assert emulator.requests() == []


async def test_a_bug_after_a_write_undoes_it_and_fails_the_run(
    worker: Worker,
    starter: Starter,
    emulator: Emulator,
    sample_setup: SampleSetup,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mark = Progress.mark

    def broken(self: Progress, status: AppStatus) -> None:
        if status is AppStatus.VERIFYING:
            raise KeyError("verifying")
        mark(self, status)

    monkeypatch.setattr(Progress, "mark", broken)
    before = app_intent(sample_setup)["spec"]["intent"]
    handle = await starter.start(vector_input(options=None, **sample_setup.activity_params()))

    with pytest.raises(WorkflowFailureError) as caught:
        await asyncio.wait_for(handle.result(), 60)

    cause = caught.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "MigrationRolledBack"
    assert "internal error in the workflow during DoDigUpdate: KeyError: 'verifying'" in (
        cause.message
    )
    assert app_intent(sample_setup)["spec"]["intent"] == before


async def test_an_emco_url_outside_the_allowlist_is_400_at_invoke(
    temporal_address: str, temporal_client: Client, task_queue: str, sample_setup: SampleSetup
) -> None:
    settings = HttpServerSettings(
        temporal=TemporalSettings(address=temporal_address),
        task_queue=task_queue,
        allowed_emco_urls=("http://emco.example:30415",),
    )
    app = create_app(settings)
    workflow_id = f"strict-{uuid.uuid4()}"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://wfc") as http:
            response = await http.post(INVOKE, content=invoke_body(sample_setup, workflow_id))

    assert response.status_code == 400
    assert response.json()["field"] == f"{FIELD}.emcoURL"
    assert (
        "is not allowed on this deployment (allowed: http://emco.example:30415"
        in (response.json()["error"])
    )
    assert await not_started(temporal_client, workflow_id)


async def test_the_worker_refuses_an_emco_url_outside_its_allowlist_without_retrying(
    temporal_client: Client,
    starter: Starter,
    task_queue: str,
    emulator: Emulator,
    sample_setup: SampleSetup,
) -> None:
    # Started straight on Temporal, past our HTTP server: the worker's own check holds.
    emulator.clear_requests()
    policy = EmcoUrlPolicy(("http://emco.example:30415",))
    async with new_http_client() as http, Worker(
        temporal_client,
        task_queue=task_queue,
        workflows=workflow_classes(),
        activities=activity_methods(http, policy),
    ):  # fmt: skip
        handle = await starter.start(vector_input(options=None, **sample_setup.activity_params()))
        with pytest.raises(WorkflowFailureError) as caught:
            await asyncio.wait_for(handle.result(), 30)

    message = str(caught.value.cause)
    assert f"emcoURL '{sample_setup.url}' is not allowed on this deployment" in message
    history = await handle.fetch_history()
    attempts = [e for e in history.events if e.HasField("activity_task_started_event_attributes")]
    assert [e.activity_task_started_event_attributes.attempt for e in attempts] == [1]
    assert emulator.requests() == []


async def test_the_largest_durations_go_accepts_do_not_fail_workflow_tasks(
    worker: Worker, starter: Starter, sample_setup: SampleSetup
) -> None:
    most = 2**63 - 1  # Go's time.Duration range ends here (about 292 years)
    entry = {
        "StartToCloseTimeout": most, "ScheduleToCloseTimeout": most,
        "ScheduleToStartTimeout": most, "HeartbeatTimeout": most,
        "RetryPolicy": {"InitialInterval": most, "MaximumInterval": most,
                        "BackoffCoefficient": 1e300, "MaximumAttempts": 2**31 - 1},
    }  # fmt: skip
    params = {
        **sample_setup.activity_params(), "dryRun": "true",
        "verifyTimeoutSeconds": "604800", "stepBudgetSeconds": "604800",
        "writeSettleSeconds": "3600",
    }  # fmt: skip
    handle = await starter.start(vector_input(options={"all-activities": entry}, **params))

    await asyncio.wait_for(handle.result(), 30)


def _hostile_bodies() -> dict[str, bytes]:
    spec = '{"workflowStartOptions":{"ID":"hostile","Memo":{"m":%s}},"workflowParams":{}}'
    return {
        "nested 1000 deep": (spec % ("[" * 1000 + "]" * 1000)).encode(),
        "nested objects": (spec % ('{"a":' * 1000 + "1" + "}" * 1000)).encode(),
        "5000-digit integer": (spec % ("9" * 5000)).encode(),
        "1e400": (spec % "1e400").encode(),
        "-1e400": (spec % "-1e400").encode(),
        "5000-digit int field": (
            '{"workflowStartOptions":{"ID":"h","WorkflowIDReusePolicy":%s}}' % ("9" * 5000)
        ).encode(),
    }


@pytest.mark.parametrize("name", list(_hostile_bodies()))
async def test_hostile_json_is_refused_at_once_and_the_server_stays_healthy(
    invoke: httpx.AsyncClient, temporal_address: str, task_queue: str, tmp_path: Path, name: str
) -> None:
    body = _hostile_bodies()[name]

    response = await asyncio.wait_for(invoke.post(INVOKE, content=body), 1.0)

    assert response.status_code == 400, response.text
    assert response.json()["error"]
    assert (await invoke.get("/healthz")).status_code == 200
    spec = tmp_path / "spec.json"
    spec.write_bytes(body)
    start = await cli(
        "start", "-a", str(spec), "--address", temporal_address, "--task-queue", task_queue
    )
    assert start.returncode == 2, start.stderr
    assert len(start.stderr.strip().splitlines()) == 1 and "Traceback" not in start.stderr
