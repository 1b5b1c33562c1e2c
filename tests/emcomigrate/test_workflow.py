"""EmcoMigrateWorkflow on a real Temporal dev server, with EMCO faked at the HTTP layer."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from emco_migrate.emcomigrate.names import QUERY_CURRENT_STATE
from support.stack import Starter, running_worker, vector_input

from .fake_emco import FakeEmco

DIG = "/v2/projects/proj1/composite-apps/capp1/v1/deployment-intent-groups/dig1"
APP_INTENT = (
    f"{DIG}/generic-placement-intents/dig1-placement-intent/app-intents/collectd-placement-intent"
)


async def result_json(handle: Any) -> dict[str, Any]:
    result = await handle.result()
    assert isinstance(result, dict)
    return result


async def test_go_sample_input_migrates_every_app_intent(
    temporal_client: Client, starter: Starter
) -> None:
    fake = FakeEmco.with_app()
    async with (
        httpx.AsyncClient(transport=fake.transport()) as http,
        running_worker(temporal_client, http),
    ):
        # The Go sample's exact bytes (5 ms heartbeat, 10 ns retry interval included).
        handle = await starter.start(vector_input())
        result = await result_json(handle)
        assert await handle.query(QUERY_CURRENT_STATE) == "completed"
    assert result["AppNameIntentPairs"] == {
        "dig1-placement-intent": [
            {"AppName": "collectd", "AppIntentName": "collectd-placement-intent"}
        ]
    }
    assert result["GenericPlacementIntentURL"] == (
        "http://192.168.1.201:30415" + DIG + "/generic-placement-intents"
    )
    assert result["GenericPlacementIntents"] is None
    assert result["InParams"]["targetClusterName"] == "cluster2"
    assert result["NewRevision"] == 2 and isinstance(result["NewRevision"], int)
    intent = fake.app_intents["dig1-placement-intent"]["collectd-placement-intent"]
    assert intent["spec"]["intent"] == {
        "allOf": [{"clusterProvider": "provider2", "cluster": "cluster2"}]
    }
    assert intent["metadata"]["description"] == "keep me"
    assert ("POST", f"{DIG}/update") in fake.requests


async def test_result_payload_is_go_json(temporal_client: Client, starter: Starter) -> None:
    fake = FakeEmco.with_app()
    async with (
        httpx.AsyncClient(transport=fake.transport()) as http,
        running_worker(temporal_client, http),
    ):
        handle = await starter.start(vector_input())
        await handle.result()
    history = await handle.fetch_history()
    completed = [
        e for e in history.events if e.HasField("workflow_execution_completed_event_attributes")
    ]
    payload = completed[0].workflow_execution_completed_event_attributes.result.payloads[0]
    assert payload.metadata["encoding"] == b"json/plain"
    text = payload.data.decode()
    # Go field order, compact, integers never floats
    assert text.startswith('{"InParams":{"compositeApp":"capp1",')
    assert '"GenericPlacementIntents":null,"AppNameIntentPairs":{' in text
    assert '"NewRevision":2}' in text
    assert ".0" not in text


async def test_current_state_moves_through_the_activities(
    temporal_client: Client, starter: Starter
) -> None:
    fake = FakeEmco.with_app()
    gates = {"PUT": asyncio.Event(), "POST": asyncio.Event()}

    async def handler(request: httpx.Request) -> httpx.Response:
        gate = gates.get(request.method)
        if gate is not None:
            await gate.wait()
        return fake.handler(request)

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http,
        running_worker(temporal_client, http),
    ):
        handle = await starter.start(vector_input(options={}))
        seen = [await wait_for_state(handle, "UpdateAppIntents")]
        gates["PUT"].set()
        seen.append(await wait_for_state(handle, "DoDigUpdate"))
        gates["POST"].set()
        await handle.result()
        seen.append(await handle.query(QUERY_CURRENT_STATE))
    assert seen == ["UpdateAppIntents", "DoDigUpdate", "completed"]


async def wait_for_state(handle: Any, state: str, within: float = 20.0) -> str:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        current = await handle.query(QUERY_CURRENT_STATE)
        if current == state:
            return str(current)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"current-state is {current!r}, expected {state!r}")
        await asyncio.sleep(0.05)


async def test_503_burst_is_retried_to_success(temporal_client: Client, starter: Starter) -> None:
    fake = FakeEmco.with_app()
    fake.fail[("PUT", APP_INTENT)] = [503, 503, 503]
    async with (
        httpx.AsyncClient(transport=fake.transport()) as http,
        running_worker(temporal_client, http),
    ):
        handle = await starter.start(vector_input())
        result = await result_json(handle)
    assert result["NewRevision"] == 2
    assert fake.requests.count(("PUT", APP_INTENT)) == 4
    assert fake.requests.count(("POST", f"{DIG}/update")) == 1


async def test_emco_404_fails_fast_without_retries(
    temporal_client: Client, starter: Starter
) -> None:
    fake = FakeEmco.with_app()
    fake.fail[("GET", f"{DIG}/generic-placement-intents")] = [404]
    async with (
        httpx.AsyncClient(transport=fake.transport()) as http,
        running_worker(temporal_client, http),
    ):
        handle = await starter.start(vector_input())
        with pytest.raises(WorkflowFailureError) as caught:
            await handle.result()
        assert await handle.query(QUERY_CURRENT_STATE) == "GetDigAppIntents"
    assert fake.requests.count(("GET", f"{DIG}/generic-placement-intents")) == 1
    message = str(caught.value.cause)
    assert "GetDigAppIntents failed" in message
    assert "404" in message and "injected failure" in message


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
    temporal_client: Client, starter: Starter, input_json: bytes, expected: str
) -> None:
    async with (
        httpx.AsyncClient(transport=FakeEmco().transport()) as http,
        running_worker(temporal_client, http),
    ):
        handle = await starter.start(input_json)
        with pytest.raises(WorkflowFailureError) as caught:
            await handle.result()
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "InvalidWorkflowParams"
    assert cause.non_retryable
    assert expected in str(cause)
