"""workflowmgr over HTTP: intents, /start to a workflow client, /status and /cancel on Temporal."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from emco_migrate.devstack.processes import free_port
from support.emulator import SampleSetup

pytestmark = pytest.mark.integration

VECTOR = Path(__file__).parents[1] / "fixtures" / "vectors" / "invoke-body-04.json"
# The body emcoctl sends for samples/intents/04 (emcoctl's yaml.v3 decode then json.Marshal).
EMCOCTL_BODY = (
    '{"metadata":{"name":"dig1-workflow-intent","description":"description for intent"},"spec":{'
    '"temporal":{"workflowClientName":"migrate_workflowclient","workflowParams":{"activityOptions":'
    '{"all-activities":{"heartbeatTimeout":5000000,"retryPolicy":{"initialInterval":10},'
    '"startToCloseTimeout":60000000000}},"activityParams":{"all-activities":{"compositeApp":"capp1",'
    '"compositeAppVersion":"v1","deploymentIntentGroup":"dig1","emcoURL":"http://192.168.1.201:30415",'
    '"project":"proj1","targetClusterName":"cluster2","targetClusterProvider":"provider2"}}},'
    '"workflowStartOptions":{"id":"migrate-apps-1","retryPolicy":{"maximumAttempts":2},'
    '"taskQueue":"MIGRATION_TASK_Q"}},"workflowClient":{"clientEndpointName":"ENDPOINT",'
    '"clientEndpointPort":PORT}}}'
)


@dataclass
class Receiver:
    """A stand-in workflow client: records POSTs and answers ``status``."""

    port: int
    status: int = 204
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(port=free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.requests.append((self.path, dict(self.headers.items()), body))
            self.send_response(state.status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", state.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    thread.join()
    server.server_close()


def emcoctl_body(endpoint: str, port: int, name: str = "dig1-workflow-intent") -> bytes:
    body = EMCOCTL_BODY.replace("ENDPOINT", endpoint).replace("PORT", str(port))
    return body.replace("dig1-workflow-intent", name).encode()


def intents(setup: SampleSetup) -> str:
    return f"{setup.dig_path}/temporal-workflow-intents"


def test_intent_crud_and_errors(http: httpx.Client, sample_setup: SampleSetup) -> None:
    w = intents(sample_setup)
    assert http.get(w).content == b"null\n"
    created = http.post(w, content=emcoctl_body("client.example", 9090))
    assert created.status_code == 201, created.text
    stored = created.json()
    options = stored["spec"]["temporal"]["workflowStartOptions"]
    assert (options["ID"], options["TaskQueue"], options["RetryPolicy"]["MaximumAttempts"]) == (
        "migrate-apps-1", "MIGRATION_TASK_Q", 2,
    )  # fmt: skip
    assert stored["metadata"] == {
        "name": "dig1-workflow-intent",
        "description": "description for intent",
        "userData1": "",
        "userData2": "",
    }
    assert http.get(f"{w}/dig1-workflow-intent").json() == stored
    assert [i["metadata"]["name"] for i in http.get(w).json()] == ["dig1-workflow-intent"]

    duplicate = http.post(w, content=emcoctl_body("client.example", 9090))
    assert (duplicate.status_code, duplicate.text) == (500, "WorkflowIntent already exists\n")
    assert http.put(f"{w}/dig1-workflow-intent", content=b"{}").status_code == 405
    missing = http.get(f"{w}/nope")
    assert (missing.status_code, missing.text) == (500, "Workflow Intent not found\n")
    assert http.post(w, content=b"").status_code == 400
    string_duration = emcoctl_body("h", 1, "bad1").replace(b"5000000", b'"5ms"')
    assert http.post(w, content=string_duration).status_code == 422
    no_retry = emcoctl_body("h", 1, "bad2").replace(b',"retryPolicy":{"initialInterval":10}', b"")
    refused = http.post(w, content=no_retry)
    assert (refused.status_code, refused.text) == (
        400,
        "Invalid Input:\nInvalid type. Expected: object, given: null\n",
    )
    orphan = http.post(
        f"{sample_setup.dig_path}x/temporal-workflow-intents", content=emcoctl_body("h", 1)
    )
    assert orphan.status_code == 500 and "parent resource not found" in orphan.text
    assert http.delete(f"{w}/dig1-workflow-intent").status_code == 204
    gone = http.delete(f"{w}/dig1-workflow-intent")
    assert gone.status_code == 500


def test_start_posts_the_go_invoke_body(
    http: httpx.Client, sample_setup: SampleSetup, receiver: Receiver
) -> None:
    w = intents(sample_setup)
    assert http.post(w, content=emcoctl_body("127.0.0.1", receiver.port)).status_code == 201
    started = http.post(f"{w}/dig1-workflow-intent/start")
    assert (started.status_code, started.content) == (204, b"")
    path, headers, body = receiver.requests[-1]
    assert path == "/invoke/migrate_workflowclient"
    assert headers["Content-Type"] == "application/json"
    assert body == VECTOR.read_bytes()

    receiver.status = 200
    refused = http.post(f"{w}/dig1-workflow-intent/start")
    url = f"http://127.0.0.1:{receiver.port}/invoke/migrate_workflowclient"
    assert (refused.status_code, refused.text) == (
        500,
        f"HTTP POST returned status code 200 OK for URL {url}.\n\n",
    )


def test_start_to_an_unreachable_client_is_a_500(
    http: httpx.Client, sample_setup: SampleSetup
) -> None:
    w = intents(sample_setup)
    assert http.post(w, content=emcoctl_body("127.0.0.1", free_port())).status_code == 201
    response = http.post(f"{w}/dig1-workflow-intent/start")
    assert response.status_code == 500 and response.text.startswith('Post "http://127.0.0.1:')


@pytest.mark.parametrize("key", ["queryParams", "workflowId", "bogus"])
def test_status_rejects_unknown_query_keys(
    http: httpx.Client, sample_setup: SampleSetup, key: str
) -> None:
    response = http.get(f"{intents(sample_setup)}/any/status", params={"workflowID": "w", key: "x"})
    assert (response.status_code, response.text) == (400, f"Unknown query parameter: {key}\n")


@workflow.defn(name="EmulatorTestDone")
class DoneWorkflow:
    @workflow.run
    async def run(self) -> str:
        return "done"


async def test_status_reads_temporal_and_fills_the_result(
    ahttp: httpx.AsyncClient,
    sample_setup: SampleSetup,
    temporal_client: Client,
    temporal_address: str,
) -> None:
    queue = f"emcosim-{uuid.uuid4()}"
    running = await temporal_client.start_workflow(
        "NobodyRunsThis", id=f"idle-{uuid.uuid4()}", task_queue=queue
    )
    status_url = f"{intents(sample_setup)}/anything/status"
    try:
        params = {
            "temporalServer": f'"{temporal_address}"',
            "workflowID": running.id,
            "runDescribeWfExec": "true",
            "getWfHistory": "true",
        }
        response = await ahttp.get(status_url, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["workflowID"] == running.id
        info = body["workflowExecutionDescription"]["workflow_execution_info"]
        assert info["status"] == "WORKFLOW_EXECUTION_STATUS_RUNNING"
        assert body["workflowHistory"][0]["event_type"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
        assert "workflowResult" not in body
        plain = await ahttp.get(
            status_url, params={"temporalServer": temporal_address, "workflowID": running.id}
        )
        assert plain.json() == {"workflowID": running.id, "workflowExecutionDescription": {}}
    finally:
        await running.terminate("test done")

    done_id = f"done-{uuid.uuid4()}"
    async with Worker(
        temporal_client,
        task_queue=queue,
        workflows=[DoneWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        done = await temporal_client.execute_workflow(
            DoneWorkflow.run, id=done_id, task_queue=queue
        )
        assert done == "done"
    params = {"temporalServer": temporal_address, "workflowID": done_id, "waitForResult": "true"}
    result = await ahttp.get(status_url, params=params)
    assert result.status_code == 200, result.text
    assert result.json()["workflowResult"] == "done"


def test_status_with_an_unreachable_temporal_is_a_500(
    http: httpx.Client, sample_setup: SampleSetup
) -> None:
    params = {"temporalServer": f"127.0.0.1:{free_port()}", "workflowID": "w"}
    response = http.get(f"{intents(sample_setup)}/x/status", params=params)
    assert response.status_code == 500
    assert response.text.startswith(
        f"Failed to connect to Temporal server ({params['temporalServer']})"
    )


async def test_cancel_and_terminate(
    ahttp: httpx.AsyncClient,
    sample_setup: SampleSetup,
    temporal_client: Client,
    temporal_address: str,
) -> None:
    w = intents(sample_setup)
    workflow_id = f"cancel-me-{uuid.uuid4()}"
    body = json.loads(emcoctl_body("127.0.0.1", 1))
    body["spec"]["temporal"]["workflowStartOptions"]["id"] = workflow_id
    assert (await ahttp.post(w, json=body)).status_code == 201
    cancel_url = f"{w}/dig1-workflow-intent/cancel"
    queue = f"emcosim-{uuid.uuid4()}"
    handle = await temporal_client.start_workflow(
        "NobodyRunsThis", id=workflow_id, task_queue=queue
    )

    no_server = await ahttp.post(cancel_url, json={"metadata": {"name": "c"}, "spec": {}})
    assert (no_server.status_code, no_server.text) == (
        400,
        ":: Temporal Server endpoint is required.\n",
    )
    other = await ahttp.post(
        f"{w}/other/cancel", json={"spec": {"temporalServer": temporal_address}}
    )
    assert (other.status_code, other.text) == (500, "Workflow Intent not found\n")

    cancelled = await ahttp.post(cancel_url, json={"spec": {"temporalServer": temporal_address}})
    assert cancelled.status_code == 204, cancelled.text
    history = await handle.fetch_history()
    assert any(
        e.HasField("workflow_execution_cancel_requested_event_attributes") for e in history.events
    )

    terminated = await ahttp.post(
        cancel_url,
        json={
            "spec": {
                "temporalServer": temporal_address,
                "terminate": True,
                "reason": "test",
                "details": ["x", 1],
            }
        },
    )
    assert terminated.status_code == 204, terminated.text
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.TERMINATED
