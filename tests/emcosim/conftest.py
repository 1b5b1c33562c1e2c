"""In-process emulator with a controllable clock, and an HTTP client for the subprocess one."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from emco_migrate.devstack.processes import free_port, wait_until
from emco_migrate.emcosim.app import create_app
from emco_migrate.emcosim.settings import EmulatorSettings
from support.emulator import Emulator, SampleSetup, build_sample_setup

READY_DELAY = 2.0  # in-process: apply completes after 1 s, Ready after 2 s of fake time


@dataclass
class FakeClock:
    """Time that only moves when a test says so."""

    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Sim:
    """An in-process emulator (uvicorn in a thread): a client, its clock and state file."""

    client: httpx.Client
    clock: FakeClock
    db: Path

    def setup(self) -> SampleSetup:
        """The sample deployment, instantiated at the current fake time (not yet Ready)."""
        return build_sample_setup(str(self.client.base_url), client=self.client, wait_ready=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(tmp_path: Path, clock: FakeClock) -> Iterator[Sim]:
    """The emulator app served in this process, on a fresh state file, with a fake clock."""
    db = tmp_path / "emcosim.db"
    port = free_port()
    app = create_app(EmulatorSettings(db=str(db), ready_delay=READY_DELAY), clock=clock)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout=10, what="in-process emulator")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield Sim(client, clock, db)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
async def ahttp(emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    """An async client of the session's emulator subprocess (for async tests)."""
    async with httpx.AsyncClient(base_url=emulator.url, timeout=30) as client:
        yield client


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    """A client of the session's emulator subprocess."""
    with emulator.client() as client:
        yield client
