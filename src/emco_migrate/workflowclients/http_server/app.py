"""The HTTP app EMCO's workflowmgr calls: ``POST /invoke/{workflowClientName}``.

It starts the workflow through an in-process workflow client (or an executable from
``--exec-dir``) and answers 204 as soon as Temporal has accepted the start. Every error
is JSON ``{"error": ..., ...}`` with a status code that says whose fault it is. With a
bearer token configured, ``POST /invoke`` needs it; the probes and ``GET /metrics`` stay open.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

from emco_migrate.emcomigrate.endpoints import EmcoUrlPolicy
from emco_migrate.emcomigrate.names import (
    EVACUATE_WORKFLOW_CLIENT,
    MIGRATE_WORKFLOW_CLIENT,
    TASK_QUEUE,
)
from emco_migrate.errors import TemporalUnreachable
from emco_migrate.temporal_connection import TemporalSettings, connect, short_reason
from emco_migrate.wire.gojson import FieldError
from emco_migrate.wire.temporal import TemporalSpec
from emco_migrate.workflowclients.errors import (
    InvalidSpec,
    WorkflowAlreadyRunning,
    WorkflowStartRefused,
)
from emco_migrate.workflowclients.evacuate_workflowclient import EvacuateWorkflowClient
from emco_migrate.workflowclients.http_server.execdir import (
    DEFAULT_TIMEOUT_SECONDS,
    ExecClientFailed,
    ExecClientTimedOut,
    ExecDirectory,
)
from emco_migrate.workflowclients.http_server.metrics import UNKNOWN_CLIENT, InvokeMetrics
from emco_migrate.workflowclients.http_server.security import BearerToken, TlsFiles
from emco_migrate.workflowclients.migrate_workflowclient.client import MigrateWorkflowClient
from emco_migrate.workflowclients.registry import (
    WorkflowClient,
    WorkflowClientRegistry,
    is_valid_client_name,
)

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
READINESS_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class HttpServerSettings:
    """What the app needs besides its Temporal client."""

    temporal: TemporalSettings = field(default_factory=TemporalSettings)
    # The task queue the in-process clients start workflows on (the workers' queue).
    task_queue: str = TASK_QUEUE
    exec_dir: Path | None = None
    exec_timeout: float = DEFAULT_TIMEOUT_SECONDS
    max_body_bytes: int = MAX_BODY_BYTES
    readiness_timeout: float = READINESS_TIMEOUT_SECONDS
    # None: POST /invoke is open to anyone who can reach the port (EMCO's workflowmgr
    # sends no Authorization header; a token is for a proxy in front, or other callers).
    auth_token: BearerToken | None = None
    # emcoURL patterns a workflow may call; empty: any. Enforced where params are checked.
    allowed_emco_urls: tuple[str, ...] = ()
    # None: plain HTTP. Used by the server process (`main.serve`), not by the app.
    tls: TlsFiles | None = None


class ApiError(Exception):
    """An error answer: status code, message and extra JSON members."""

    headers: Mapping[str, str] = {}

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"error": message, **extra}


class Unauthorized(ApiError):
    """401 with the challenge RFC 6750 asks for."""

    headers = {"WWW-Authenticate": "Bearer"}

    def __init__(self, message: str) -> None:
        super().__init__(401, message)


def create_app(
    settings: HttpServerSettings,
    *,
    temporal_client: Client | None = None,
    registry: WorkflowClientRegistry | None = None,
) -> FastAPI:
    """Build the app.

    ``temporal_client`` is the process's one long-lived client; without it the lifespan
    creates one lazily (so the app starts while Temporal is down and answers 503 until
    it is back). ``registry`` defaults to the clients declared as entry points.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.temporal = temporal_client or await connect(settings.temporal, lazy=True)
        app.state.registry = registry or WorkflowClientRegistry.from_entry_points(
            built_in={
                MIGRATE_WORKFLOW_CLIENT: MigrateWorkflowClient(
                    EmcoUrlPolicy(settings.allowed_emco_urls), task_queue=settings.task_queue
                ),
                EVACUATE_WORKFLOW_CLIENT: EvacuateWorkflowClient(
                    EmcoUrlPolicy(settings.allowed_emco_urls), task_queue=settings.task_queue
                ),
            }
        )
        metrics.serving(app.state.registry.names())
        log.info(
            "serving workflow clients %s%s; task queue %s on Temporal at %s",
            ", ".join(app.state.registry.names()),
            f" and executables in {settings.exec_dir}" if settings.exec_dir else "",
            settings.task_queue,
            settings.temporal.describe(),
        )
        if settings.auth_token is None:
            log.warning(
                "no --auth-token-file given: POST /invoke is unauthenticated, anyone who "
                "can reach this port can start workflows"
            )
        if not settings.allowed_emco_urls:
            log.warning("no --allow-emco-url given: workflows may call any emcoURL")
        yield

    app = FastAPI(
        title="emco-migrate workflow client server",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    exec_dir = (
        ExecDirectory(settings.exec_dir, settings.exec_timeout) if settings.exec_dir else None
    )
    metrics = InvokeMetrics()

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status, headers=dict(exc.headers))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": "invalid request"}, status_code=400)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"error": "internal error"}, status_code=500)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        """Ready when Temporal answers a cheap call within the readiness timeout."""
        client: Client = request.app.state.temporal
        timeout = settings.readiness_timeout
        try:
            await asyncio.wait_for(
                client.workflow_service.describe_namespace(
                    DescribeNamespaceRequest(namespace=client.namespace),
                    timeout=timedelta(seconds=timeout),
                ),
                timeout + 0.5,
            )
        except TimeoutError:
            reason = f"Temporal did not answer within {timeout:g}s"
            return JSONResponse({"ready": False, "reason": reason}, status_code=503)
        except Exception as err:
            reason = f"Temporal at {settings.temporal.describe()}: {short_reason(err)}"
            return JSONResponse({"ready": False, "reason": reason}, status_code=503)
        return JSONResponse({"ready": True})

    @app.get("/metrics")
    async def prometheus_metrics(request: Request) -> Response:
        """Prometheus metrics, open like the probes (they name no secret)."""
        body, content_type = metrics.exposition(request.headers.get("accept"))
        return Response(body, media_type=content_type)

    def served(request: Request, name: str) -> bool:
        registry: WorkflowClientRegistry = request.app.state.registry
        if registry.get(name) is not None:
            return True
        return exec_dir is not None and exec_dir.find(name) is not None

    async def invoke(request: Request) -> Response:
        """Start the workflow EMCO asks for; 204 as soon as it is started."""
        workflow_client_name: str = request.path_params["workflow_client_name"]
        received = time.monotonic()
        code = 500
        try:
            await start(workflow_client_name, request)
            code = 204
        except ApiError as err:
            code = err.status
            raise
        finally:
            name = workflow_client_name
            client = name if is_valid_client_name(name) and served(request, name) else None
            metrics.invoked(client or UNKNOWN_CLIENT, code, time.monotonic() - received)
        return Response(status_code=204)

    async def start(workflow_client_name: str, request: Request) -> None:
        if settings.auth_token is not None:
            _authorize(request, settings.auth_token)
        name = workflow_client_name
        if not is_valid_client_name(name):
            raise ApiError(
                400,
                f"invalid workflow client name {name!r}: use letters, digits, '_' and '-'",
                client=name,
            )
        body = await _read_body(request, settings.max_body_bytes)
        registry: WorkflowClientRegistry = request.app.state.registry
        in_process = registry.get(name)
        executable = exec_dir.find(name) if exec_dir and in_process is None else None
        if in_process is None and executable is None:
            raise ApiError(404, f"unknown workflow client {name!r}", client=name)
        spec = _parse_spec(body)
        if spec.workflow_client_name and spec.workflow_client_name != name:
            log.warning(
                "body names workflow client %r; running %r from the URL",
                spec.workflow_client_name,
                name,
            )
        if in_process is not None:
            await _start_in_process(name, in_process, request.app.state.temporal, spec)
        elif exec_dir is not None and executable is not None:
            await _start_executable(exec_dir, name, executable, body)

    # A plain Starlette route, not `@app.post`: FastAPI's request handler (dependency solving,
    # parameter validation, response checks) cost ~45 us of CPU per invoke (measured in
    # process: ~15 % of what the app itself spends), and this endpoint reads its one path
    # parameter and its body itself. Errors still go through the exception handlers above.
    app.add_route("/invoke/{workflow_client_name}", invoke, methods=["POST"])
    return app


def _authorize(request: Request, token: BearerToken) -> None:
    """Refuse, before the body is read, a request without the right bearer token."""
    authorization = request.headers.get("authorization")
    if token.matches(authorization):
        return
    scheme = (authorization or "").strip().partition(" ")[0]
    reason = "wrong bearer token" if scheme.lower() == "bearer" else "missing bearer token"
    log.warning(
        "refused %s %s from %s: %s",
        request.method,
        request.url.path,
        request.client.host if request.client else "?",
        reason,
    )
    raise Unauthorized(f"{reason}: send 'Authorization: Bearer <token>'")


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, f"invalid Content-Length {declared!r}")
        if int(declared) > limit:
            raise ApiError(413, f"request body is larger than {limit} bytes", limit=limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, f"request body is larger than {limit} bytes", limit=limit)
    return bytes(body)


def _parse_spec(body: bytes) -> TemporalSpec:
    if not body.strip():
        raise ApiError(400, "empty body: expected a WfTemporalSpec JSON object")
    try:
        return TemporalSpec.from_json(body)
    except FieldError as err:
        raise ApiError(400, err.reason, **({"field": err.field} if err.field else {})) from None


async def _start_in_process(
    name: str, workflow_client: WorkflowClient, temporal: Client, spec: TemporalSpec
) -> None:
    try:
        started = await workflow_client.start(temporal, spec)
    except InvalidSpec as err:
        raise ApiError(400, err.reason, **({"field": err.field} if err.field else {})) from None
    except WorkflowAlreadyRunning as err:
        raise ApiError(409, str(err), workflowID=err.workflow_id) from None
    except TemporalUnreachable as err:
        log.warning("cannot start workflow for %s: %s", name, err)
        raise ApiError(503, str(err)) from None
    except WorkflowStartRefused as err:
        raise ApiError(502, str(err)) from None
    except Exception:
        log.exception("workflow client %s failed unexpectedly", name)
        raise ApiError(500, "internal error", client=name) from None
    log.info(
        "workflow client %s started workflow %s run %s",
        name,
        started.workflow_id,
        started.run_id,
    )


async def _start_executable(
    exec_dir: ExecDirectory, name: str, executable: Path, body: bytes
) -> None:
    try:
        await exec_dir.run(name, executable, body)
    except ExecClientTimedOut as err:
        raise ApiError(504, str(err), client=name, timeoutSeconds=err.timeout) from None
    except ExecClientFailed as err:
        raise ApiError(502, str(err), client=name, exitCode=err.exit_code) from None
