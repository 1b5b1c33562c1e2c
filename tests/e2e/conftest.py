"""End-to-end fixtures: a migrate worker on the real dev server, EMCO as the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from emco_migrate.emcomigrate.emco_client import new_http_client
from support.stack import running_worker


@pytest.fixture
async def worker(temporal_client: Client) -> AsyncIterator[Worker]:
    """An in-process worker (workflow + activities) with a real HTTP client to EMCO."""
    http: httpx.AsyncClient = new_http_client()
    async with http, running_worker(temporal_client, http) as running:
        yield running
