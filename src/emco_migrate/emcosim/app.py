"""The emulator's ASGI app: every EMCO service under /v2, the admin API, gorilla/mux errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from emco_migrate.emcosim.api import (
    admin,
    apps,
    clm,
    dcm,
    digs,
    lifecycle,
    placements,
    projects,
    workflowmgr,
)
from emco_migrate.emcosim.backend import Backend, Clock
from emco_migrate.emcosim.errors import HttpError
from emco_migrate.emcosim.responses import empty, text_error
from emco_migrate.emcosim.settings import EmulatorSettings
from emco_migrate.emcosim.store import Database
from emco_migrate.emcosim.store.faults import FaultStore

log = logging.getLogger(__name__)

NOT_FOUND = "404 page not found"
ADMIN_PREFIX = "/emulator/"


def create_app(
    settings: EmulatorSettings, *, clock: Clock | None = None, db: Database | None = None
) -> FastAPI:
    """Build the app on the state file of ``settings`` (or on ``db``)."""
    database = db or Database(settings.db)
    be = Backend(
        settings=settings,
        db=database,
        http=httpx.AsyncClient(timeout=settings.http_timeout),
    )
    if clock is not None:
        be.clock = clock

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        """Close the outgoing HTTP client at shutdown."""
        yield
        await be.http.aclose()

    app = FastAPI(
        title="EMCO emulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
        lifespan=lifespan,
    )
    app.state.backend = be
    for module in (projects, apps, digs, placements, lifecycle, clm, dcm, workflowmgr):
        app.include_router(module.router, prefix="/v2")
    app.include_router(admin.router)
    _install_error_handlers(app)
    _install_fault_injection(app, be)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HttpError)
    async def emco_error(_: Request, err: HttpError) -> Response:
        """EMCO's `http.Error`: text/plain with a newline."""
        return text_error(err.status, err.text)

    @app.exception_handler(HTTPException)
    async def routing_error(_: Request, err: HTTPException) -> Response:
        """gorilla/mux's answers when no route matches."""
        if err.status_code == 404:
            return text_error(404, NOT_FOUND)
        if err.status_code == 405:
            return empty(405)  # gorilla/mux: known path, unregistered method
        return text_error(err.status_code, str(err.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, err: RequestValidationError) -> Response:
        """Not expected: handlers take raw requests and string path parameters."""
        return text_error(400, str(err))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, err: Exception) -> Response:
        """A bug in the emulator: log it and say so."""
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return text_error(500, f"emulator bug: {type(err).__name__}: {err}")


def _install_fault_injection(app: FastAPI, be: Backend) -> None:
    @app.middleware("http")
    async def inject_faults(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Answer with an injected fault when one matches (never for the admin API)."""
        path = request.url.path
        if not path.startswith(ADMIN_PREFIX):
            with be.db.read() as tx:
                armed = tx.execute("SELECT 1 FROM faults WHERE remaining > 0 LIMIT 1").fetchone()
            if armed is not None:
                with be.db.write() as tx:
                    fault = FaultStore(tx).take(request.method, path)
                if fault is not None:
                    log.info("fault %d: %s %s -> %d", fault.id, request.method, path, fault.status)
                    if fault.delay > 0:
                        await asyncio.sleep(fault.delay)
                    if fault.status in (204, 304):
                        return empty(fault.status)
                    return text_error(fault.status, f"emulator fault {fault.id}")
        return await call_next(request)
