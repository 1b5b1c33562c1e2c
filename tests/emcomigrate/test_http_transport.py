"""The worker's EMCO HTTP client against real local servers: connection cap, keep-alive,
timeouts, errors as httpx names them, and requests that arrive as they were sent."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest
from aiohttp import web
from temporalio.exceptions import ApplicationError

from emco_migrate.emcomigrate.emco_client import EmcoClient, new_http_client
from emco_migrate.emcomigrate.error_types import ErrorType
from emco_migrate.emcomigrate.types import DigRef

HOST = "127.0.0.1"


@dataclass
class Server:
    """What a local EMCO stand-in saw: requests as sent, in flight at once, connections."""

    url: str = ""
    targets: list[str] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    peers: set[tuple[str, int]] = field(default_factory=set)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    seen = Server()

    async def handle(request: web.Request) -> web.Response:
        seen.targets.append(request.raw_path)
        seen.user_agents.append(request.headers.get("User-Agent", ""))
        assert request.transport is not None
        seen.peers.add(request.transport.get_extra_info("peername")[:2])
        seen.in_flight += 1
        seen.most_in_flight = max(seen.most_in_flight, seen.in_flight)
        try:
            await asyncio.sleep(float(request.query.get("sleep", "0.02")))
        finally:
            seen.in_flight -= 1
        return web.json_response({"path": request.path})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    port = runner.addresses[0][1]
    seen.url = f"http://{HOST}:{port}"
    yield seen
    await runner.cleanup()


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[bytes], Awaitable[str]]]:
    """A TCP server that reads one request head, writes the given bytes and hangs up."""
    servers: list[asyncio.Server] = []

    async def start(answer: bytes) -> str:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
            writer.close()

        started = await asyncio.start_server(serve, HOST, 0)
        servers.append(started)
        return f"http://{HOST}:{started.sockets[0].getsockname()[1]}"

    yield start
    for started in servers:
        started.close()
        await started.wait_closed()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


async def test_never_more_requests_in_flight_than_connections(server: Server) -> None:
    async with new_http_client(max_connections=2) as http:
        answers = await asyncio.gather(*(http.get(f"{server.url}/{n}") for n in range(20)))
    assert [a.json() for a in answers] == [{"path": f"/{n}"} for n in range(20)]
    assert server.most_in_flight == 2
    assert len(server.peers) <= 2  # kept alive: the 20 requests shared two connections


async def test_a_timed_out_request_gives_its_connection_back(server: Server) -> None:
    async with new_http_client(max_connections=1) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"{server.url}/slow", params={"sleep": "5"}, timeout=0.2)
        answer = await asyncio.wait_for(http.get(f"{server.url}/next"), 5)
    assert answer.status_code == 200


async def test_emco_client_per_request_timeout_is_a_retryable_timeout(server: Server) -> None:
    dig = DigRef(server.url, "p", "c", "v1", "d")
    async with new_http_client() as http:
        emco = EmcoClient(http, server.url, timeout=0.2)
        with pytest.raises(ApplicationError) as caught:
            await emco.status(dig, [("sleep", "5")])
    err = caught.value
    assert err.type == ErrorType.UNAVAILABLE and not err.non_retryable
    assert "did not answer GET" in str(err) and "in time (ReadTimeout)" in str(err)


async def test_a_refused_connection_reads_connection_refused(server: Server) -> None:
    closed = f"http://{HOST}:{closed_port()}"
    async with new_http_client(max_connections=1) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"{closed}/v2/projects")
        with pytest.raises(ApplicationError) as caught:
            await EmcoClient(http, closed).update(DigRef(closed, "p", "c", "v1", "d"))
        # the failed connection held no slot: the one connection serves the next request
        answer = await asyncio.wait_for(http.get(f"{server.url}/next"), 5)
    err = caught.value
    assert f"EMCO at {closed} unreachable for POST" in str(err)
    assert str(err).endswith(": connection refused")
    assert err.details[0]["transport"] == "ConnectError"
    assert answer.status_code == 200


async def test_a_server_that_hangs_up_is_a_remote_protocol_error(
    raw_server: Callable[[bytes], Awaitable[str]],
) -> None:
    url = await raw_server(b"")
    async with new_http_client() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(f"{url}/v2/update")


async def test_an_answer_that_is_not_http_is_a_remote_protocol_error(
    raw_server: Callable[[bytes], Awaitable[str]],
) -> None:
    url = await raw_server(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
    async with new_http_client() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(f"{url}/v2/projects")


async def test_paths_and_queries_reach_the_server_as_emco_client_sent_them(
    server: Server,
) -> None:
    dig = DigRef(server.url, "proj 1", "capp/1", "v1", "dig?1")
    async with new_http_client() as http:
        emco = EmcoClient(http, server.url)
        await emco.status(dig, [("status", "ready"), ("cluster", "provider1+cluster1")])
    # EMCO's status API reads the cluster as provider+name: the + must arrive as %2B.
    assert server.targets == [
        "/v2/projects/proj%201/composite-apps/capp%2F1/v1/deployment-intent-groups/dig%3F1"
        "/status?status=ready&cluster=provider1%2Bcluster1"
    ]
    assert server.user_agents == ["emco-migrate"]


async def test_requests_per_second_spaces_requests_at_the_server(server: Server) -> None:
    loop = asyncio.get_running_loop()
    async with new_http_client(requests_per_second=10) as http:
        answered: list[float] = []

        async def get(n: int) -> None:
            await http.get(f"{server.url}/{n}", params={"sleep": "0"})
            answered.append(loop.time())

        began = loop.time()
        await asyncio.gather(*(get(n) for n in range(6)))
    assert len(server.targets) == 6
    # Spaced 1/10 s apart: the sixth starts no sooner than 0.5 s after the first.
    assert max(answered) - began >= 0.45
