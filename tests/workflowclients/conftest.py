"""Fixtures for the workflow-client tests: tracked workflow IDs and the real HTTP app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from emco_migrate.temporal_connection import TemporalSettings
from emco_migrate.workflowclients.http_server.app import HttpServerSettings, create_app
from emco_migrate.workflowclients.registry import WorkflowClientRegistry

from .helpers import Workflows


@pytest.fixture
async def workflows(temporal_client: Client) -> AsyncIterator[Workflows]:
    """Workflow IDs for one test; everything started under them is terminated afterwards."""
    tracker = Workflows(temporal_client)
    yield tracker
    await tracker.terminate_all()


AppFactory = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def http_app(temporal_address: str, task_queue: str) -> AsyncIterator[AppFactory]:
    """Build the real app (lifespan included) and an httpx client talking to it, starting
    workflows on the test's task queue.

    Keyword arguments override `HttpServerSettings` fields; ``registry`` replaces the
    entry-point registry; ``address`` points the app at another Temporal.
    """
    stack = contextlib.AsyncExitStack()

    async def build(
        *,
        address: str | None = None,
        registry: WorkflowClientRegistry | None = None,
        **overrides: Any,
    ) -> httpx.AsyncClient:
        settings = HttpServerSettings(
            temporal=TemporalSettings(address=address or temporal_address),
            **{"task_queue": task_queue, **overrides},
        )
        app = create_app(settings, registry=registry)
        await stack.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        return await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://workflowclient")
        )

    async with stack:
        yield build
