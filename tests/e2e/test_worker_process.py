"""The worker as a real process: crash recovery without a second /update, graceful drain."""

from __future__ import annotations

import signal
import time

import pytest
from temporalio.client import Client

from support.emulator import Emulator, SampleSetup
from support.stack import Starter

from .conftest import WorkerProcesses
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
    # Each PUT of the app intent takes 2 s (then answers 503), for the three tries the EMCO
    # client makes of an idempotent request within one attempt.
    emulator_reset.add_fault(
        f"^{setup.app_intent_path}$", 503, method="PUT", delay_seconds=2.0, count=3
    )
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
