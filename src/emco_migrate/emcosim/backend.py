"""What every request handler shares: settings, the database, the clock, an HTTP client."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from starlette.requests import Request

from emco_migrate.emcosim.deploy.session import Session
from emco_migrate.emcosim.settings import EmulatorSettings
from emco_migrate.emcosim.store import Database

if TYPE_CHECKING:
    from temporalio.client import Client

Clock = Callable[[], float]


@dataclass
class Backend:
    """The emulator's dependencies, built once per process in `create_app`."""

    settings: EmulatorSettings
    db: Database
    clock: Clock = time.time
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=10.0))
    temporal_clients: dict[str, Client] = field(default_factory=dict)
    # Deliveries of held requests: referenced here so they outlive their client's connection.
    held: set[asyncio.Task[Any]] = field(default_factory=set)
    # One random source per fault id (per process): a fault's seed makes its choices repeatable.
    fault_rngs: dict[int, random.Random] = field(default_factory=dict)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A read-write unit of work (holds SQLite's write lock)."""
        with self.db.write() as tx:
            yield Session(tx, self.clock(), self.settings.ready_delay)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work over one snapshot."""
        with self.db.read() as tx:
            yield Session(tx, self.clock(), self.settings.ready_delay)

    async def drop_held(self) -> None:
        """Cancel the deliveries still held (at shutdown) and wait for them to end."""
        for task in self.held:
            task.cancel()
        await asyncio.gather(*self.held, return_exceptions=True)


def backend(request: Request) -> Backend:
    """The backend of the app serving ``request``."""
    found: Backend = request.app.state.backend
    return found
