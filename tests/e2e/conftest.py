"""End-to-end fixtures: a migrate worker on the real dev server, EMCO as the emulator."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from emco_migrate.devstack.processes import ManagedProcess, wait_until
from emco_migrate.devstack.temporal_dev import TemporalDevServer
from emco_migrate.emcomigrate.emco_client import new_http_client
from support.stack import running_worker


@pytest.fixture
async def worker(temporal_client: Client, task_queue: str) -> AsyncIterator[Worker]:
    """An in-process worker (workflow + activities) on the test's task queue, with a real
    HTTP client to EMCO."""
    http: httpx.AsyncClient = new_http_client()
    async with http, running_worker(temporal_client, http, task_queue) as running:
        yield running


class WorkerProcesses:
    """``emco-migrate worker`` subprocesses against the session's dev server, polling the
    test's task queue."""

    def __init__(self, address: str, log_dir: Path, task_queue: str) -> None:
        self.address = address
        self.log_dir = log_dir
        self.task_queue = task_queue
        self.started: list[ManagedProcess] = []

    def start(self, *args: str) -> ManagedProcess:
        name = f"worker-{len(self.started)}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
        env.update(TEMPORAL_ADDRESS=self.address, PYTHONUNBUFFERED="1")
        log = self.log_dir / f"{name}.log"
        command = [sys.executable, "-m", "emco_migrate", "worker", "--task-queue", self.task_queue]
        process = ManagedProcess(name, [*command, *args], log_path=log, env=env)
        process.start()
        self.started.append(process)
        wait_until(
            lambda: log.exists() and f"polling {self.task_queue} " in log.read_text(),
            timeout=30,
            what=name,
            alive=process.exit_reason,
        )
        return process

    def stop_all(self) -> None:
        for process in self.started:
            process.stop()


@pytest.fixture
def workers(
    temporal_server: TemporalDevServer, tmp_path: Path, task_queue: str
) -> Iterator[WorkerProcesses]:
    processes = WorkerProcesses(temporal_server.address, tmp_path, task_queue)
    yield processes
    processes.stop_all()
