"""Load generation: operations at a fixed concurrency, and a lean keep-alive HTTP client.

The HTTP client is deliberately minimal (HTTP/1.1, keep-alive, Content-Length or chunked
bodies): on a 2-core machine a full-featured client would spend a good part of a core per
few hundred requests and the benchmark would measure itself instead of the server.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.stats import Round

log = logging.getLogger(__name__)

Operation = Callable[[], Awaitable[object]]

# Reuse a connection only this long after its last answer (uvicorn drops them after 5 s).
KEEPALIVE_SECONDS = 4.0


async def drive(
    operations: Sequence[Operation],
    concurrency: int,
    cpu: Callable[[], dict[str, float]] | None = None,
) -> Round:
    """Run every operation, at most ``concurrency`` at once; time each and the whole.

    ``cpu`` (e.g. `BenchStack.cpu_seconds`) is read before and after, to record the CPU
    time each process spent on the round.
    """
    cpu_before = cpu() if cpu else {}
    pending = iter(operations)
    latencies: list[float] = []
    errors: list[BaseException] = []

    async def lane() -> None:
        for operation in pending:
            started = time.perf_counter()
            try:
                await operation()
            except Exception as err:
                errors.append(err)
                continue
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(max(1, min(concurrency, len(operations))))))
    elapsed = time.perf_counter() - started
    cpu_after = cpu() if cpu else {}
    if errors:
        log.warning(
            "%d of %d operations failed; first: %r", len(errors), len(operations), errors[0]
        )
    used = {k: cpu_after[k] - cpu_before[k] for k in cpu_after if k in cpu_before}
    return Round(len(latencies), elapsed, tuple(latencies), errors=len(errors), cpu=used)


class HttpError(Exception):
    """A response with an unexpected status, or a malformed response."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.open = True
        self.idle_since = time.monotonic()

    def reusable(self) -> bool:
        """Still open and not idle long enough for the server to have dropped it."""
        fresh = time.monotonic() - self.idle_since < KEEPALIVE_SECONDS
        return self.open and fresh and not self.reader.at_eof()

    async def exchange(self, request: bytes, head_only: bool) -> Response:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise HttpError(f"malformed status line {lines[0]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if headers.get("connection", "").lower() == "close":
            self.open = False
        if head_only or status in (204, 304) or 100 <= status < 200:
            return Response(status, b"")
        if "content-length" in headers:
            return Response(status, await self.reader.readexactly(int(headers["content-length"])))
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return Response(status, await self._chunked())
        self.open = False
        return Response(status, await self.reader.read())

    async def _chunked(self) -> bytes:
        body = bytearray()
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return bytes(body)
            body += await self.reader.readexactly(size)
            await self.reader.readexactly(2)

    def close(self) -> None:
        self.open = False
        self.writer.close()


class HttpPool:
    """Up to ``size`` keep-alive connections to one ``http://host:port``."""

    def __init__(self, base_url: str, size: int) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"expected an http://host:port URL, got {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.size = size
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(size)

    async def request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        *,
        content_type: str = "application/json",
        accept: str | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> Response:
        """Send one request on an idle (or new) connection; raise unless the status is
        in ``expect``."""
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if accept:
            lines.append(f"Accept: {accept}")
        if body is not None:
            lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        async with self._slots:
            connection = await self._checkout()
            try:
                response = await connection.exchange(request, head_only=method == "HEAD")
            except BaseException:
                connection.close()
                raise
            if connection.open:
                connection.idle_since = time.monotonic()
                self._idle.append(connection)
            else:
                connection.close()
        if response.status not in expect:
            text = response.body[:300].decode("utf-8", "replace")
            raise HttpError(f"{method} {target}: {response.status} {text}")
        return response

    async def _checkout(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection.reusable():
                return connection
            connection.close()
        return await self._connect()

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return _Connection(reader, writer)

    async def close(self) -> None:
        """Close every idle connection."""
        for connection in self._idle:
            connection.close()
        self._idle.clear()

    async def __aenter__(self) -> HttpPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
