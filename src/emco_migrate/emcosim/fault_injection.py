"""Between the HTTP server and the EMCO API: injected faults, held requests, the request log.

An error fault answers in EMCO's place. A hold fault keeps the request for ``hold`` seconds
and then applies it, in a task of its own, whether or not its client is still waiting: a slow
proxy or a queued ingress that delivers a request after the client gave up. The delivery calls
the layer below this one directly, so it cannot meet a fault again and no client can ask for
that (there is no header or flag to forge).

A fault's ``path_regex`` is RE2 (`store.faults.path_matches`): it is tried against the path of
every request, so it must not be able to take exponential time, as Python's `re` can.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emco_migrate.emcosim.backend import Backend
from emco_migrate.emcosim.responses import empty, text_error
from emco_migrate.emcosim.store.faults import Fault, FaultStore
from emco_migrate.emcosim.store.requests import RequestLog

log = logging.getLogger(__name__)

ADMIN_PREFIX = "/emulator/"
EMCO_PREFIX = "/v2/"
READS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class _Captured:
    """A response taken off an ASGI app instead of sent to a client."""

    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: list[bytes] = field(default_factory=list)
    complete: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body.append(message.get("body", b""))
            if not message.get("more_body", False):
                self.complete.set()

    async def send_to(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": b"".join(self.body)})


class FaultInjection:
    """ASGI middleware over the whole app; the admin API (``/emulator/``) is never touched."""

    def __init__(self, app: ASGIApp, backend: Backend) -> None:
        self.app = app
        self.be = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        path: str = scope["path"]
        fault, entry = self._arrive(method, path)
        if fault is None:
            await self._apply(scope, receive, send, entry)
        elif fault.hold is not None:
            await self._hold(fault, fault.hold, scope, receive, send, entry)
        else:
            await self._fail(fault, fault.status or 500, scope, receive, send)

    def _arrive(self, method: str, path: str) -> tuple[Fault | None, int | None]:
        """The fault hitting this request, and its request-log entry if it is a write."""
        logged = method not in READS and (path + "/").startswith(EMCO_PREFIX)
        if not logged:
            with self.be.db.read() as tx:
                if not FaultStore(tx).armed():
                    return None, None
        with self.be.db.write() as tx:
            fault = FaultStore(tx).take(method, path, self._rolls_hit)
            if not logged:
                return fault, None
            status = fault.status if fault is not None and fault.hold is None else None
            entry = RequestLog(tx).arrived(
                method,
                path,
                self.be.clock(),
                fault_id=fault.id if fault is not None else None,
                status=status,
            )
            return fault, entry

    def _rolls_hit(self, fault: Fault) -> bool:
        if fault.rate >= 1.0:
            return True
        rng = self.be.fault_rngs.get(fault.id)
        if rng is None:
            rng = random.Random(fault.seed) if fault.seed is not None else random.SystemRandom()
            self.be.fault_rngs[fault.id] = rng
        return rng.random() < fault.rate

    async def _apply(self, scope: Scope, receive: Receive, send: Send, entry: int | None) -> None:
        """Pass the request to EMCO; a logged one gets its applied time and EMCO's answer."""
        if entry is None:
            await self.app(scope, receive, send)
            return
        applied_at = self.be.clock()
        status = 500  # unless the app answers: an exception becomes ServerErrorMiddleware's 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            with self.be.db.write() as tx:
                RequestLog(tx).applied(entry, applied_at, status)

    async def _fail(
        self, fault: Fault, status: int, scope: Scope, receive: Receive, send: Send
    ) -> None:
        log.info("fault %d: %s %s -> %d", fault.id, scope["method"], scope["path"], status)
        if fault.delay > 0:
            await asyncio.sleep(fault.delay)
        if status in (204, 304):
            response = empty(status)
        else:
            response = text_error(status, f"emulator fault {fault.id}")
        await response(scope, receive, send)

    async def _hold(
        self,
        fault: Fault,
        hold: float,
        scope: Scope,
        receive: Receive,
        send: Send,
        entry: int | None,
    ) -> None:
        """Apply the request after the hold; the client, if still there, gets EMCO's answer."""
        body = await _read_body(receive)
        if body is None:
            log.info("fault %d: client left before sending its body; nothing held", fault.id)
            return
        log.info("fault %d: %s %s held for %gs", fault.id, scope["method"], scope["path"], hold)
        delivery = asyncio.create_task(self._deliver_later(hold, dict(scope), body, entry))
        self.be.held.add(delivery)
        delivery.add_done_callback(self.be.held.discard)
        # `asyncio.wait` never cancels what it waits for: the delivery goes on if this request
        # ends first. A client that leaves ends it, so the server's shutdown need not wait for
        # the hold; the app's shutdown then cancels the delivery (`Backend.drop_held`).
        gone = asyncio.create_task(_disconnected(receive))
        try:
            await asyncio.wait({delivery, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not delivery.done():
            log.info("fault %d: client left; the held request will still be applied", fault.id)
            delivery.add_done_callback(_log_failure)
        elif delivery.cancelled():
            await text_error(503, "emulator stopped before applying the held request")(
                scope, receive, send
            )
        else:
            await delivery.result().send_to(send)

    async def _deliver_later(
        self, hold: float, scope: Scope, body: bytes, entry: int | None
    ) -> _Captured:
        await asyncio.sleep(hold)
        captured = _Captured()
        sent = False

        async def replay_request() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await captured.complete.wait()  # like a client that stays until the answer
            return {"type": "http.disconnect"}

        try:
            await self._apply(scope, replay_request, captured.send, entry)
        finally:
            captured.complete.set()
        log.info("delivered held %s %s -> %d", scope["method"], scope["path"], captured.status)
        return captured


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body; None if the client disconnected first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _log_failure(delivery: asyncio.Task[_Captured]) -> None:
    """Log a delivery that failed with nobody waiting for it (else the waiter's 500 tells)."""
    if not delivery.cancelled() and (err := delivery.exception()) is not None:
        log.error("applying a held request failed", exc_info=err)


async def _disconnected(receive: Receive) -> None:
    """Return once the client has gone (the body was read already)."""
    while (await receive())["type"] != "http.disconnect":
        pass
