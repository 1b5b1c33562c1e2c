"""The worker's HTTP transport to EMCO: httpx's API over aiohttp's connection pool."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import httpx
from aiolimiter import AsyncLimiter
from httpx_aiohttp import AiohttpTransport


class EmcoTransport(AiohttpTransport):
    """httpx-aiohttp's transport, its errors mapped to the httpx exceptions httpcore raises.

    httpx-aiohttp 0.2 turns every `aiohttp.ClientConnectionError` into `httpx.ConnectTimeout`
    (its broadest entry wins over the specific ones), so a refused connection would read as
    a timeout. Here a connection that could not be made is `httpx.ConnectError`, a server
    that closed the connection without an answer `httpx.RemoteProtocolError`, another lost
    connection `httpx.ReadError`, and an aiohttp error it leaves unmapped (an answer that is
    not HTTP) `httpx.RemoteProtocolError`. Timeouts keep its mapping: ``ConnectTimeout`` for
    the connection (the wait for a free one included), ``ReadTimeout`` for the answer.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.ConnectTimeout as err:
            cause = err.__cause__
            if isinstance(cause, aiohttp.ServerTimeoutError) or not isinstance(
                cause, aiohttp.ClientConnectionError
            ):
                raise
            raise _connection_error(cause)(str(cause), request=request) from cause
        except aiohttp.ClientError as err:
            raise httpx.RemoteProtocolError(str(err), request=request) from err


def _connection_error(err: aiohttp.ClientConnectionError) -> type[httpx.TransportError]:
    if isinstance(err, aiohttp.ClientConnectorError):
        return httpx.ConnectError
    if isinstance(err, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError
    return httpx.ReadError


def pool_limits(max_connections: int) -> httpx.Limits:
    """At most ``max_connections`` connections, all of them kept alive when idle."""
    return httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)


def rate_limit(per_second: float) -> Callable[[httpx.Request], Awaitable[None]]:
    """A request event hook that lets requests start at most ``per_second`` a second."""
    # A bucket that holds one request: requests are spaced 1/rate apart, so no second ever
    # sees more than the rate (plus the one in the bucket), bursts included.
    limiter = AsyncLimiter(1, 1.0 / per_second)

    async def wait_turn(request: httpx.Request) -> None:
        await limiter.acquire()

    return wait_turn
