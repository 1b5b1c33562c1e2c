"""The EMCO orchestrator REST calls the migration needs, with errors classified once.

4xx answers (except 408 and 429) become non-retryable `ApplicationError`s carrying EMCO's
status and message; 5xx, 408, 429, timeouts and connection errors become retryable ones,
left to Temporal's retry policy. The HTTP client does no retries of its own.
"""

from __future__ import annotations

import asyncio
import enum
import json
import os
import time
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from temporalio.exceptions import ApplicationError

from emco_migrate.emcomigrate.dig_status import DigStatus
from emco_migrate.emcomigrate.endpoints import request_url
from emco_migrate.emcomigrate.error_types import ErrorType
from emco_migrate.emcomigrate.http_transport import EmcoTransport, pool_limits, rate_limit
from emco_migrate.emcomigrate.metrics import emco_request
from emco_migrate.emcomigrate.types import AppIntent, DigRef
from emco_migrate.wire import emco
from emco_migrate.wire.gojson import FieldError, GoObject, json_kind, parse
from emco_migrate.wire.structs import decode

T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_CONNECTIONS = 8
RETRYABLE_4XX = frozenset({408, 429})
IDEMPOTENT_METHODS = frozenset({"GET", "PUT"})
IDEMPOTENT_TRIES = 3
RETRY_PAUSE_SECONDS = 0.2


class Endpoint(enum.StrEnum):
    """What a request is for: the `endpoint` label of the EMCO request metrics (a closed
    set; a path would make a series per DIG)."""

    PROJECTS = "projects"
    COMPOSITE_APPS = "composite-apps"
    DIGS = "deployment-intent-groups"
    DIG = "deployment-intent-group"
    PLACEMENT_INTENTS = "generic-placement-intents"
    APP_INTENTS = "app-intents"
    APP_INTENT = "app-intent"
    UPDATE = "update"
    ROLLBACK = "rollback"
    STATUS = "status"
    CLUSTER = "cluster"
    CLUSTER_REFERENCES = "cluster-references"


def new_http_client(
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    *,
    max_connections: int = MAX_CONNECTIONS,
    requests_per_second: float = 0.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The one long-lived HTTP client a worker uses for EMCO (pooled, with timeouts).

    httpx's API over aiohttp's connection pool (`EmcoTransport`): at most
    ``max_connections`` requests are in flight, each on a kept-alive connection, and the
    others wait in aiohttp's connector for a free one; that wait counts toward the
    request's pool timeout. With ``requests_per_second``, requests start at most that often
    (aiolimiter; 0: no limit). Bench scenario 6, 200 tasks sending through 8 connections:
    httpx over httpcore with a semaphore in front of its pool cost 1.56 ms of worker CPU per
    request, this transport 0.45 ms. aiohttp's connector hands a freed connection to
    whichever request asks next rather than to the longest waiting one, so under overload
    waits are uneven (p50 6 ms, p99 1.6 s there, against 300 and 356 ms with the semaphore).
    """
    hooks = {"request": [rate_limit(requests_per_second)]} if requests_per_second > 0 else {}
    return httpx.AsyncClient(
        timeout=timeout,
        transport=transport or EmcoTransport(limits=pool_limits(max_connections)),
        headers={"User-Agent": "emco-migrate"},
        event_hooks=hooks,
    )


def path(*segments: str) -> str:
    """A URL path from segments, each percent-quoted."""
    return "/" + "/".join(quote(s, safe="") for s in segments)


def dig_path(dig: DigRef, *rest: str) -> str:
    """The path of a DIG or one of its sub-resources (``rest``), segments quoted."""
    return "/v2" + path(
        "projects",
        dig.project,
        "composite-apps",
        dig.composite_app,
        dig.version,
        "deployment-intent-groups",
        dig.dig,
        *rest,
    )


EXCERPT_CHARS = 120
EMCO_ERROR_TYPE = "text/plain; charset=utf-8"


def answer_text(response: httpx.Response) -> str:
    """What an answer said, safe to show whoever started the run: EMCO's own error line
    (Go's ``http.Error``: an error status, ``text/plain; charset=utf-8``, one line ending in
    a newline),
    printable characters only and cut short; for anything else, which may be some other
    service's page, only its reason phrase, content type and size, never its body."""
    body = response.content
    content_type = response.headers.get("content-type", "")
    emco_error = (
        response.status_code >= 400
        and content_type.lower() == EMCO_ERROR_TYPE
        and body.endswith(b"\n")
        and body.count(b"\n") == 1
    )
    if emco_error:
        line = body.decode("utf-8", "replace").strip()
        line = "".join(c if c.isprintable() else "?" for c in line)
        if line:
            return line if len(line) <= EXCERPT_CHARS else line[:EXCERPT_CHARS] + "..."
    kind = content_type.split(";")[0].strip() or "no content type"
    return f"{response.reason_phrase or 'no reason'} ({kind}, {len(body)} bytes, not shown)"


class EmcoClient:
    """Calls one EMCO orchestrator; every method raises `ApplicationError` on failure.

    ``timeout`` bounds each request's life (the activities keep it below their
    start-to-close timeout, so a retry never starts while an earlier request of the same
    attempt may still be answered). Idempotent requests (GET, PUT) that get a transient
    answer are tried again, at most `IDEMPOTENT_TRIES` times in all, before the error goes
    to Temporal: with EMCO behind a mesh answering 503 to 10% of requests, a six-GET
    snapshot failed 47% of its attempts; three tries per request make that 0.6%. POSTs are
    never repeated here: the activities decide from EMCO's state whether one was applied.
    """

    def __init__(
        self, http: httpx.AsyncClient, base_url: str, *, timeout: float | None = None
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._timeout = timeout

    @property
    def base_url(self) -> str:
        """The EMCO service this client calls."""
        return self._base

    async def _request(
        self,
        method: str,
        url_path: str,
        *,
        endpoint: Endpoint,
        expect: tuple[int, ...],
        json_body: Any = None,
        params: list[tuple[str, str]] | None = None,
        accept_json: bool = False,
    ) -> httpx.Response:
        tries = IDEMPOTENT_TRIES if method in IDEMPOTENT_METHODS else 1
        attempt = 1
        while True:
            try:
                return await self._request_once(
                    method,
                    url_path,
                    endpoint=endpoint,
                    expect=expect,
                    json_body=json_body,
                    params=params,
                    accept_json=accept_json,
                )
            except ApplicationError as err:
                if attempt == tries or not _repeatable(err):
                    raise
            await asyncio.sleep(RETRY_PAUSE_SECONDS * attempt)
            attempt += 1

    async def _request_once(
        self,
        method: str,
        url_path: str,
        *,
        endpoint: Endpoint,
        expect: tuple[int, ...],
        json_body: Any,
        params: list[tuple[str, str]] | None,
        accept_json: bool,
    ) -> httpx.Response:
        url = request_url(self._base, url_path)
        what = f"{method} {url_path}"
        headers = {"Content-Type": "application/json"} if json_body is not None else {}
        if accept_json:
            # EMCO answers single apps/clusters 406 without Accept and 300 for */*.
            headers["Accept"] = "application/json"
        timeout: Any = httpx.USE_CLIENT_DEFAULT if self._timeout is None else self._timeout
        sent = time.monotonic()
        status: int | None = None
        try:
            response = await self._http.request(
                method,
                url,
                content=None if json_body is None else json.dumps(json_body).encode(),
                headers=headers,
                params=tuple(params) if params else None,
                timeout=timeout,
            )
            status = response.status_code
        except httpx.TimeoutException as err:
            # ``from None``: the transport's exception chain would only add tracebacks.
            raise ApplicationError(
                f"EMCO at {self._base} did not answer {what} in time ({type(err).__name__})",
                {"method": method, "path": url_path, "transport": type(err).__name__},
                type=ErrorType.UNAVAILABLE,
            ) from None
        except httpx.TransportError as err:
            raise ApplicationError(
                f"EMCO at {self._base} unreachable for {what}: {_transport_reason(err)}",
                {"method": method, "path": url_path, "transport": type(err).__name__},
                type=ErrorType.UNAVAILABLE,
            ) from None
        finally:
            emco_request(endpoint, method, status, time.monotonic() - sent)
        if response.status_code in expect:
            return response
        status = response.status_code
        body = answer_text(response)
        message = f"EMCO answered {status} to {what}: {body}"
        details = {"status": status, "method": method, "path": url_path, "body": body}
        if 400 <= status < 500 and status not in RETRYABLE_4XX:
            raise ApplicationError(message, details, type=ErrorType.REJECTED, non_retryable=True)
        raise ApplicationError(message, details, type=ErrorType.UNAVAILABLE)

    @staticmethod
    def _json(response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError as err:
            raise ApplicationError(
                f"EMCO sent invalid JSON for {what}: {answer_text(response)}",
                type=ErrorType.BAD_RESPONSE,
                non_retryable=True,
            ) from err

    async def get_list(self, url_path: str, cls: type[T], *, endpoint: Endpoint) -> list[T]:
        """GET a JSON array of EMCO bodies (``null``: none), decoded with Go's rules and
        unknown keys kept; an answer of another shape is a `BAD_RESPONSE`."""
        response = await self._request("GET", url_path, endpoint=endpoint, expect=(200,))
        try:
            items = parse(response.content)
            if isinstance(items, GoObject) or not isinstance(items, list | None):
                raise FieldError("", f"expected an array, got {json_kind(items)}")
            return [decode(cls, item, f"[{i}]") for i, item in enumerate(items or [])]
        except FieldError as err:
            raise _bad_response(url_path, err) from None

    async def placement_intents(self, dig: DigRef) -> list[str]:
        """Names of the DIG's generic placement intents, in EMCO's order."""
        url_path = dig_path(dig, "generic-placement-intents")
        gpis = await self.get_list(url_path, emco.MetadataOnly, endpoint=Endpoint.PLACEMENT_INTENTS)
        return [_named(g.metadata.name, i, url_path) for i, g in enumerate(gpis)]

    async def app_intents(self, dig: DigRef, placement_intent: str) -> list[AppIntent]:
        """The app intents of one generic placement intent, full bodies kept."""
        url_path = dig_path(dig, "generic-placement-intents", placement_intent, "app-intents")
        intents = await self.get_list(url_path, emco.AppIntent, endpoint=Endpoint.APP_INTENTS)
        return [
            AppIntent(placement_intent, _named(body.metadata.name, i, url_path), body)
            for i, body in enumerate(intents)
        ]

    async def put_app_intent(self, dig: DigRef, intent: AppIntent) -> int:
        """Create or replace an app intent (EMCO answers 201 or 200); returns the status."""
        url_path = dig_path(
            dig, "generic-placement-intents", intent.placement_intent, "app-intents", intent.name
        )
        response = await self._request(
            "PUT",
            url_path,
            endpoint=Endpoint.APP_INTENT,
            expect=(200, 201),
            json_body=intent.body.encode(),
        )
        return response.status_code

    async def update(self, dig: DigRef) -> int:
        """POST /update; EMCO answers 202 with the new revision as a bare integer."""
        url_path = dig_path(dig, "update")
        response = await self._request("POST", url_path, endpoint=Endpoint.UPDATE, expect=(202,))
        revision = self._json(response, url_path)
        if isinstance(revision, bool) or not isinstance(revision, int):
            raise ApplicationError(
                f"EMCO answered 202 to POST {url_path} but the body is not an integer "
                f"revision: {answer_text(response)}",
                type=ErrorType.BAD_RESPONSE,
                non_retryable=True,
            )
        return revision

    async def rollback(self, dig: DigRef, revision: int, description: str) -> None:
        """POST /rollback to an earlier revision (EMCO wants the revision as a string)."""
        await self._request(
            "POST",
            dig_path(dig, "rollback"),
            endpoint=Endpoint.ROLLBACK,
            expect=(202,),
            json_body={
                "metadata": {"description": description},
                "spec": {"revision": str(revision)},
            },
        )

    async def status(self, dig: DigRef, params: list[tuple[str, str]]) -> dict[str, Any]:
        """GET the DIG status with the given query parameters."""
        url_path = dig_path(dig, "status")
        body = self._json(
            await self._request(
                "GET", url_path, endpoint=Endpoint.STATUS, expect=(200,), params=params
            ),
            url_path,
        )
        if not isinstance(body, dict):
            raise ApplicationError(
                f"EMCO sent a non-object status for {url_path}",
                type=ErrorType.BAD_RESPONSE,
                non_retryable=True,
            )
        return body

    async def summary(self, dig: DigRef) -> DigStatus:
        """The DIG's action log (state, revision, context), without per-app detail."""
        return DigStatus.parse(
            await self.status(dig, [("status", "deployed"), ("output", "summary")])
        )

    async def get_json(self, url_path: str, *, endpoint: Endpoint) -> Any:
        """GET any orchestrator/clm/dcm resource as JSON (200 expected)."""
        response = await self._request(
            "GET", url_path, endpoint=endpoint, expect=(200,), accept_json=True
        )
        return self._json(response, url_path)

    async def dig(self, dig: DigRef) -> emco.DeploymentIntentGroup:
        """The DIG's metadata and spec."""
        url_path = dig_path(dig)
        response = await self._request(
            "GET", url_path, endpoint=Endpoint.DIG, expect=(200,), accept_json=True
        )
        try:
            return emco.DeploymentIntentGroup.from_json(response.content)
        except FieldError as err:
            raise _bad_response(url_path, err) from None


def _repeatable(err: ApplicationError) -> bool:
    """A transient answer (5xx, 408, 429) or a connection that was never made: the request
    did nothing, so sending it again is safe. A timeout is not repeated here: the request
    may still be in flight, and the attempt's own bound is what decides."""
    if err.type != ErrorType.UNAVAILABLE:
        return False
    details = err.details[0] if err.details and isinstance(err.details[0], dict) else {}
    if "status" in details:
        return True
    return details.get("transport") in ("ConnectError", "ConnectTimeout")


def _transport_reason(err: httpx.TransportError) -> str:
    """The operating system's reason ("connection refused") when the chain has one, else the
    transport's own words, on one line."""
    cause: BaseException | None = err
    for _ in range(10):
        if cause is None:
            break
        if isinstance(cause, OSError) and cause.errno:
            return os.strerror(cause.errno).lower()
        cause = cause.__cause__ or cause.__context__
    text = " ".join(str(err).split())
    return text[-300:] if text else type(err).__name__


def _bad_response(url_path: str, err: FieldError) -> ApplicationError:
    """EMCO's 200 answer is not the body it should be; ``err`` names the field."""
    return ApplicationError(
        f"EMCO sent a malformed answer to GET {url_path}: {err}",
        {"path": url_path, "field": err.path},
        type=ErrorType.BAD_RESPONSE,
        non_retryable=True,
    )


def _named(name: str, index: int, url_path: str) -> str:
    """A listed item's ``metadata.name``, which must not be empty."""
    if not name:
        raise _bad_response(url_path, FieldError(f"[{index}].metadata.name", "missing or empty"))
    return name
