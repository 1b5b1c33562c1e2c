"""``python -m bench.http_clients VARIANT``: one HTTP client under the worker's load (scenario 6).

A child process of its own, so that its CPU is counted apart from the bench's. It reads
the request mix (one JSON line: method, URL, query, body, expected statuses) from stdin,
then one line per round with the number of requests to send; it sends them from ``--tasks``
concurrent tasks (like activities parked on the worker) through a client of at most
``--connections`` connections, and answers each round with one JSON line: the round's wall
seconds, every request's latency (from the task's call to the body read) and the errors.
EOF ends it.

The variants (`VARIANTS`):

* ``httpx-queue``: httpx over httpcore with the queue the worker used before scenario 6
  (`QueueingTransport`: a semaphore of ``connections`` slots in front of httpcore's pool);
* ``httpx-pool``: httpx over httpcore, the pool's own limit and nothing in front of it;
* ``httpx-aiohttp``: the worker's client (`new_http_client`): httpx over httpx-aiohttp's
  transport, aiohttp's connector limiting;
* ``aiohttp``: a plain `aiohttp.ClientSession`, for reference.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import httpx

from emco_migrate.emcomigrate.emco_client import new_http_client

VARIANTS = ("httpx-queue", "httpx-pool", "httpx-aiohttp", "aiohttp")
USER_AGENT = "emco-migrate-bench"
TIMEOUT_SECONDS = 30.0  # passed with every request, as `EmcoClient` does


@dataclass(frozen=True)
class Request:
    """One request of the mix; the URL without its query, which ``params`` holds."""

    method: str
    url: str
    params: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    expect: tuple[int, ...] = (200,)

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json"} if self.body is not None else {}

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "params": [list(p) for p in self.params],
            "body": None if self.body is None else self.body.decode(),
            "expect": list(self.expect),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Request:
        body = raw.get("body")
        return cls(
            raw["method"],
            raw["url"],
            tuple((str(k), str(v)) for k, v in raw.get("params", ())),
            None if body is None else str(body).encode(),
            tuple(int(s) for s in raw.get("expect", (200,))),
        )


class Client(Protocol):
    async def send(self, request: Request) -> None:
        """Send ``request``, read its whole body; raise unless the status is expected."""

    async def aclose(self) -> None: ...


class UnexpectedStatus(Exception):
    pass


class HttpxClient:
    """An `httpx.AsyncClient`, called the way `EmcoClient` calls it."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def send(self, request: Request) -> None:
        response = await self._http.request(
            request.method,
            request.url,
            content=request.body,
            headers=request.headers,
            params=request.params or None,
            timeout=TIMEOUT_SECONDS,
        )
        if response.status_code not in request.expect:
            raise UnexpectedStatus(f"{request.method} {request.url}: {response.status_code}")

    async def aclose(self) -> None:
        await self._http.aclose()


class AiohttpClient:
    """A plain `aiohttp.ClientSession` with a connector of ``connections``."""

    def __init__(self, connections: int) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections),
            headers={"User-Agent": USER_AGENT},
        )
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=TIMEOUT_SECONDS, sock_read=TIMEOUT_SECONDS
        )

    async def send(self, request: Request) -> None:
        async with self._session.request(
            request.method,
            request.url,
            data=request.body,
            headers=request.headers,
            params=request.params or None,
            timeout=self._timeout,
        ) as response:
            await response.read()
            if response.status not in request.expect:
                raise UnexpectedStatus(f"{request.method} {request.url}: {response.status}")

    async def aclose(self) -> None:
        await self._session.close()


def _httpx(transport: httpx.AsyncBaseTransport) -> HttpxClient:
    return HttpxClient(
        httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(TIMEOUT_SECONDS, connect=10.0),
            headers={"User-Agent": USER_AGENT},
        )
    )


def new_client(variant: str, connections: int) -> Client:
    """The client ``variant`` names, at most ``connections`` requests in flight."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    if variant == "httpx-queue":
        return _httpx(QueueingTransport(httpx.AsyncHTTPTransport(limits=limits), connections))
    if variant == "httpx-pool":
        return _httpx(httpx.AsyncHTTPTransport(limits=limits))
    if variant == "httpx-aiohttp":
        return HttpxClient(new_http_client(max_connections=connections))
    if variant == "aiohttp":
        return AiohttpClient(connections)
    raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")


class QueueingTransport(httpx.AsyncBaseTransport):
    """The worker's EMCO transport before scenario 6: ``limit`` requests at a time go through
    to ``transport``, the others wait on a semaphore; a slot is held until the response body
    is closed, so httpcore's pool never has a request queued."""

    def __init__(self, transport: httpx.AsyncBaseTransport, limit: int) -> None:
        self._transport = transport
        self._slots = asyncio.Semaphore(limit)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self._slots.acquire()
        try:
            response = await self._transport.handle_async_request(request)
        except BaseException:
            self._slots.release()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _ReleasingStream(response.stream, self._slots.release)
        return response

    async def aclose(self) -> None:
        await self._transport.aclose()


class _ReleasingStream(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


async def run_round(
    client: Client, mix: list[Request], count: int, tasks: int, offset: int
) -> dict[str, Any]:
    """Send ``count`` requests of ``mix`` (from ``offset`` on, in turn) from ``tasks`` tasks."""
    pending: Iterator[Request] = (mix[(offset + n) % len(mix)] for n in range(count))
    latencies: list[float] = []
    errors: list[BaseException] = []

    async def task() -> None:
        for request in pending:
            began = time.perf_counter()
            try:
                await client.send(request)
            except Exception as err:
                errors.append(err)
                continue
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(task() for _ in range(max(1, min(tasks, count)))))
    return {
        "seconds": time.perf_counter() - began,
        "latencies": latencies,
        "errors": len(errors),
        "firstError": repr(errors[0]) if errors else None,
    }


async def serve(variant: str, connections: int, tasks: int) -> None:
    """Answer round after round on stdout until stdin closes."""
    loop = asyncio.get_running_loop()
    first = await loop.run_in_executor(None, sys.stdin.readline)
    mix = [Request.from_json(r) for r in json.loads(first)["requests"]]
    client = new_client(variant, connections)
    offset = 0
    try:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            count = int(line)
            answer = await run_round(client, mix, count, tasks, offset)
            offset += count
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
    finally:
        await client.aclose()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_clients", description=__doc__)
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--tasks", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.variant, args.connections, args.tasks))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
