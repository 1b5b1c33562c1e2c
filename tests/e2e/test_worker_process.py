"""The worker as a real process: crash recovery without a second /update, graceful drain."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from emco_migrate.devstack.processes import ManagedProcess, wait_until
from emco_migrate.devstack.temporal_dev import TemporalDevServer
from support.emulator import Emulator, SampleSetup
from support.stack import Starter

from .helpers import instantiated_revisions, placement, start_migration, wait_for_state

pytestmark = pytest.mark.integration

QUICK = {
    "all-activities": {
        "StartToCloseTimeout": 30_000_000_000,
        "RetryPolicy": {"InitialInterval": 200_000_000, "MaximumInterval": 1_000_000_000},
    },
    # The shortest heartbeat timeout verification accepts (5 s): a dead worker's
    # verification is retried elsewhere after it.
    "VerifyMigration": {"StartToCloseTimeout": 1, "HeartbeatTimeout": 5_000_000_000},
}


class WorkerProcesses:
    """``emco-migrate worker`` subprocesses against the session's dev server."""

    def __init__(self, address: str, log_dir: Path) -> None:
        self.address = address
        self.log_dir = log_dir
        self.started: list[ManagedProcess] = []

    def start(self, *args: str) -> ManagedProcess:
        name = f"worker-{len(self.started)}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
        env.update(TEMPORAL_ADDRESS=self.address, PYTHONUNBUFFERED="1")
        log = self.log_dir / f"{name}.log"
        process = ManagedProcess(
            name, [sys.executable, "-m", "emco_migrate", "worker", *args], log_path=log, env=env
        )
        process.start()
        self.started.append(process)
        wait_until(
            lambda: log.exists() and "polling MIGRATION_TASK_Q" in log.read_text(),
            timeout=30,
            what=name,
            alive=process.exit_reason,
        )
        return process

    def stop_all(self) -> None:
        for process in self.started:
            process.stop()


@pytest.fixture
def workers(temporal_server: TemporalDevServer, tmp_path: Path) -> Iterator[WorkerProcesses]:
    processes = WorkerProcesses(temporal_server.address, tmp_path)
    yield processes
    processes.stop_all()


async def test_sigkilled_worker_is_replaced_without_a_second_update(
    workers: WorkerProcesses, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    emulator_reset.set_cluster("provider2", "cluster2", ready_delay_seconds=3.0)
    first = workers.start()
    handle = await start_migration(starter, setup, options=QUICK)
    await wait_for_state(handle, "VerifyMigration")
    first.kill()  # SIGKILL while the workflow waits for readiness

    workers.start()
    await handle.result()
    assert placement(emulator_reset, setup) == {"provider2+cluster2": ["Ready", "Ready"]}
    assert instantiated_revisions(setup) == [1, 2]  # no duplicate /update
    description = await handle.describe()
    assert description.status is not None and description.status.name == "COMPLETED"


async def test_sigterm_lets_the_in_flight_activity_finish(
    workers: WorkerProcesses, starter: Starter, emulator_reset: Emulator,
    sample_setup: SampleSetup, temporal_client: Client,
) -> None:  # fmt: skip
    setup = sample_setup
    # The first PUT of the app intent takes 2 s (then answers 503).
    emulator_reset.add_fault(f"^{setup.app_intent_path}$", 503, method="PUT", delay_seconds=2.0)
    worker = workers.start("--drain-timeout", "20")
    handle = await start_migration(
        starter,
        setup,
        options={"all-activities": {"StartToCloseTimeout": 30_000_000_000,
                                    "RetryPolicy": {"InitialInterval": 30_000_000_000}}},
    )  # fmt: skip
    await wait_for_state(handle, "UpdateAppIntents")
    assert worker.process is not None
    signalled = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=30) == 0
    assert time.monotonic() - signalled >= 1.0  # it waited for the slow request
    # The attempt in flight was finished and reported (503), not abandoned.
    description = await handle.describe()
    [pending] = description.raw_description.pending_activities
    assert pending.activity_type.name == "UpdateAppIntents"
    assert pending.attempt == 2
    assert "EMCO answered 503" in pending.last_failure.message
