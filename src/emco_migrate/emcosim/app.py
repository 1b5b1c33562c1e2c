"""The emulator's ASGI app: every EMCO service under /v2, the admin API, gorilla/mux errors."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
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
    availability,
    clm,
    dcm,
    digs,
    faults,
    lifecycle,
    placements,
    projects,
    workflowmgr,
)
from emco_migrate.emcosim.backend import Backend, Clock
from emco_migrate.emcosim.errors import HttpError
from emco_migrate.emcosim.fault_injection import FaultInjection
from emco_migrate.emcosim.responses import empty, text_error
from emco_migrate.emcosim.settings import EmulatorSettings
from emco_migrate.emcosim.store import Database

log = logging.getLogger(__name__)

NOT_FOUND = "404 page not found"


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
        """At shutdown: drop requests still held by a hold fault, close the HTTP client."""
        yield
        await be.drop_held()
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
    app.include_router(faults.router)
    app.include_router(availability.router)
    _install_error_handlers(app)
    app.add_middleware(FaultInjection, backend=be)
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
