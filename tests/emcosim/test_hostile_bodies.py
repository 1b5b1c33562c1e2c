"""Hostile EMCO bodies get Go's decoder answer (422 and Go's message) fast, never a 500.

Over HTTP against the session's emulator subprocess: each request has a client timeout of
a few seconds, so a hang or an exponential parse fails the test instead of stalling it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from support.emulator import Emulator

DEADLINE = 5.0  # seconds, per request; each answer here takes milliseconds
DIGITS = "9" * 5000  # past CPython's 4300-digit int limit
TOO_DEEP = "exceeded max depth (this emulator allows 100 levels of nesting)\n"
WORKFLOW_INTENTS = (
    "/v2/projects/p/composite-apps/ca/v1/deployment-intent-groups/dig/temporal-workflow-intents"
)


@pytest.fixture
def client(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, timeout=DEADLINE) as http:
        yield http


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def project(name: str, extra: str = "") -> bytes:
    return ('{"metadata":{"name":"' + name + '"}' + extra + "}").encode()


def temporal_intent(start_options: str) -> bytes:
    return (
        '{"metadata":{"name":"w"},"spec":{"workflowClient":{"clientEndpointName":"h",'
        '"clientEndpointPort":9090},"temporal":{"workflowClientName":"c",'
        '"workflowStartOptions":' + start_options + "}}}"
    ).encode()


def assert_go_error(response: httpx.Response, status: int, text: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.endswith(text), response.text


@pytest.mark.parametrize(
    ("body", "bracket"),
    [
        (project("p", ',"junk":' + nested(1000)), "["),
        (project("p", ',"junk":' + '{"a":' * 1000 + "1" + "}" * 1000), "{"),
        (nested(100_000, ""), "["),
        (("[" * 5000).encode(), "["),
    ],
)
def test_deep_nesting_is_a_422_with_gos_wording(
    client: httpx.Client, body: bytes, bracket: str
) -> None:
    response = client.post("/v2/projects", content=body)
    assert_go_error(response, 422, f"invalid character '{bracket}' {TOO_DEEP}")


def test_nesting_inside_strings_and_after_the_first_value_is_not_counted(
    client: httpx.Client,
) -> None:
    # Go's decoder reads one value and ignores what follows it.
    name = f"deep-{uuid.uuid4().hex[:8]}"
    text = "[{" * 500  # the description may have 1024 characters
    body = ('{"metadata":{"name":"' + name + '","description":"' + text + '"}}').encode()
    response = client.post("/v2/projects", content=body + b" " + b"[" * 5000)
    assert response.status_code == 201, response.text
    assert response.json()["metadata"]["description"] == text
    assert client.delete(f"/v2/projects/{name}").status_code == 204


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (
            "/v2/projects",
            ('{"metadata":{"name":' + DIGITS + "}}").encode(),
            "json: cannot unmarshal number into Go struct field types.Metadata.metadata.name "
            "of type string\n",
        ),
        (
            WORKFLOW_INTENTS,
            temporal_intent('{"ID":"x"}').replace(b"9090", DIGITS.encode()),
            "json: cannot unmarshal number 99999999999999999999...(5000 characters) into Go "
            "struct field module.WfClientSpec.spec.workflowClient.clientEndpointPort of type int\n",
        ),
        # The nested Temporal spec is decoded like every other struct (one decoder), so these
        # are Go's own texts, field path included; before, a second parser gave its own.
        (
            WORKFLOW_INTENTS,
            temporal_intent('{"ID":"x","Memo":{"a":1e400}}'),
            "json: cannot unmarshal number 1e400 into Go struct field client.StartWorkflowOptions"
            ".spec.temporal.workflowStartOptions.Memo.a of type float64\n",
        ),
        (
            WORKFLOW_INTENTS,
            temporal_intent('{"ID":"x","SearchAttributes":{"a":-' + DIGITS + "}}"),
            ".spec.temporal.workflowStartOptions.SearchAttributes.a of type float64\n",
        ),
        (
            WORKFLOW_INTENTS,
            temporal_intent('{"ID":"x","WorkflowRunTimeout":' + DIGITS + "}"),
            "json: cannot unmarshal number 99999999999999999999...(5000 characters) into Go struct "
            "field client.StartWorkflowOptions.spec.temporal.workflowStartOptions"
            ".WorkflowRunTimeout of type time.Duration\n",
        ),
        (
            WORKFLOW_INTENTS,
            temporal_intent('{"ID":"x","Memo":{"a":' + nested(96) + "}}"),
            TOO_DEEP,
        ),
    ],
)
def test_numbers_go_cannot_hold_are_a_422_with_gos_message(
    client: httpx.Client, path: str, body: bytes, message: str
) -> None:
    assert_go_error(client.post(path, content=body), 422, message)


def test_interface_values_beyond_float64_are_a_422_naming_the_field(
    client: httpx.Client,
) -> None:
    provider = f"hostile-{uuid.uuid4().hex[:8]}"
    assert client.post("/v2/cluster-providers", content=project(provider)).status_code == 201
    clusters = f"/v2/cluster-providers/{provider}/clusters"
    try:
        for number in ("1e400", "-" + DIGITS):
            metadata = '{"metadata":{"name":"c1"},"spec":{"kube":{"n":' + number + "}}}"
            response = client.post(clusters, files={"metadata": (None, metadata.encode())})
            assert_go_error(
                response,
                422,
                "into Go struct field cluster.Cluster.spec.kube.n of type float64\n",
            )
        metadata = '{"metadata":{"name":"c1"},"spec":{"kube":{"n":' + "9" * 300 + "}}}"
        response = client.post(clusters, files={"metadata": (None, metadata.encode())})
        assert response.status_code == 201, response.text
        assert response.json()["spec"] == {"kube": {"n": 1e300}}
        assert client.delete(f"{clusters}/c1").status_code == 204
    finally:
        client.delete(f"/v2/cluster-providers/{provider}")


def test_lone_surrogate_escapes_are_stored_as_the_replacement_character(
    client: httpx.Client,
) -> None:
    name = f"surrogate-{uuid.uuid4().hex[:8]}"
    body = ('{"metadata":{"name":"' + name + '","description":"a\\ud800b\\udc00"}}').encode()
    response = client.post("/v2/projects", content=body)
    assert response.status_code == 201, response.text
    assert json.loads(response.content)["metadata"]["description"] == "a\ufffdb\ufffd"
    read = client.get(f"/v2/projects/{name}")
    assert read.json()["metadata"]["description"] == "a\ufffdb\ufffd"
    assert client.delete(f"/v2/projects/{name}").status_code == 204
