"""EMCO calls: quoted paths, accepted status codes, error classification."""

from __future__ import annotations

import asyncio
import itertools
import json

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from emco_migrate.emcomigrate.emco_client import EmcoClient, new_http_client
from emco_migrate.emcomigrate.error_types import ErrorType
from emco_migrate.emcomigrate.types import AppIntent, DigRef

DIG = DigRef("http://emco:9015", "proj 1", "capp/1", "v1", "dig?1")


def client(handler: httpx.MockTransport) -> EmcoClient:
    return EmcoClient(httpx.AsyncClient(transport=handler), DIG.emco_url)


async def test_path_segments_are_quoted() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, content=b"null\n")

    assert await client(httpx.MockTransport(handler)).placement_intents(DIG) == []
    assert seen == [
        "/v2/projects/proj%201/composite-apps/capp%2F1/v1/deployment-intent-groups/dig%3F1"
        "/generic-placement-intents"
    ]


@pytest.mark.parametrize("status", [200, 201])
async def test_put_app_intent_accepts_200_and_201(status: int) -> None:
    bodies: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(status, json={})

    intent = AppIntent.new("gpi", "ai", "app")
    assert await client(httpx.MockTransport(handler)).put_app_intent(DIG, intent) == status
    assert bodies == [{"metadata": {"name": "ai"}, "spec": {"app": "app", "intent": {}}}]


async def test_update_returns_the_revision() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(202, content=b"3\n"))
    assert await client(transport).update(DIG) == 3


@pytest.mark.parametrize("body", [b"", b'"3"', b"3.5", b"true"])
async def test_update_without_integer_body_is_a_bad_response(body: bytes) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(202, content=body))
    with pytest.raises(ApplicationError) as caught:
        await client(transport).update(DIG)
    assert caught.value.type == ErrorType.BAD_RESPONSE
    assert caught.value.non_retryable


@pytest.mark.parametrize("status", [400, 404, 409, 422])
async def test_4xx_is_non_retryable_with_emcos_message(status: int) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(status, text="Intent not found\n"))
    with pytest.raises(ApplicationError) as caught:
        await client(transport).update(DIG)
    err = caught.value
    assert err.non_retryable and err.type == ErrorType.REJECTED
    assert f"EMCO answered {status}" in str(err) and "Intent not found" in str(err)
    assert err.details[0]["status"] == status


@pytest.mark.parametrize("status", [408, 429, 500, 503])
async def test_5xx_408_429_are_retryable(status: int) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(status, text="busy\n"))
    with pytest.raises(ApplicationError) as caught:
        await client(transport).update(DIG)
    assert not caught.value.non_retryable and caught.value.type == ErrorType.UNAVAILABLE
    assert str(caught.value).endswith(": busy")


@pytest.mark.parametrize("exc", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
async def test_transport_errors_are_retryable(exc: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    with pytest.raises(ApplicationError) as caught:
        await client(httpx.MockTransport(handler)).update(DIG)
    assert not caught.value.non_retryable and caught.value.type == ErrorType.UNAVAILABLE


async def test_rollback_sends_revision_as_string() -> None:
    bodies: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(202)

    await client(httpx.MockTransport(handler)).rollback(DIG, 1, "undo")
    assert bodies == [{"metadata": {"description": "undo"}, "spec": {"revision": "1"}}]


async def test_requests_per_second_caps_how_many_start_in_any_second() -> None:
    loop = asyncio.get_running_loop()
    started: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        started.append(loop.time())
        return httpx.Response(200)

    transport = httpx.MockTransport(handler)
    async with new_http_client(requests_per_second=20, transport=transport) as http:
        await asyncio.gather(*(http.get(f"http://emco/{n}") for n in range(50)))
    assert len(started) == 50
    # Spaced 1/20 s apart, bursts included: never more than 21 start within a second.
    starts = sorted(started)
    for i in range(len(starts) - 21):
        assert starts[i + 21] - starts[i] >= 0.95, f"over 21 requests within a second at {i}"
    assert all(b - a > 0.04 for a, b in itertools.pairwise(starts))
