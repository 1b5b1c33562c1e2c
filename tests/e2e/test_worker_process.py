"""The worker as a real process: crash recovery without a second /update, graceful drain."""

from __future__ import annotations

import json
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


async def test_json_logs_parse_line_by_line_and_name_the_run(
    workers: WorkerProcesses,
    starter: Starter,
    emulator_reset: Emulator,
    sample_setup: SampleSetup,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker logging JSON to a file: every line is an object, a retried attempt is one
    line naming its workflow, run, activity and attempt (no traceback), every line of the
    migration's workflow and activities names its DIG, and no terminal colour code reaches
    the file."""
    setup = sample_setup
    # Three 503s: the three tries the EMCO client makes of an idempotent PUT in one attempt.
    emulator_reset.add_fault(f"^{setup.app_intent_path}$", 503, method="PUT", count=3)
    monkeypatch.setenv("EMCO_MIGRATE_LOG_FORMAT", "json")
    worker = workers.start()
    # A heartbeat timeout below the floor: the workflow itself logs that it raised it.
    below_floor = {"StartToCloseTimeout": 30_000_000_000, "HeartbeatTimeout": 1_000_000_000}
    options = {**QUICK, "GetDigAppIntents": below_floor}
    handle = await start_migration(starter, setup, options=options)
    await handle.result()
    worker.stop()
    assert worker.log_path is not None
    text = worker.log_path.read_text()
    assert "\x1b[" not in text
    assert "Traceback" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    [retried] = [
        line for line in lines if line["message"].startswith("Completing activity as failed")
    ]
    assert retried["level"] == "WARNING"
    assert retried["activity"] == "UpdateAppIntents"
    assert retried["attempt"] == 1
    assert (retried["workflowId"], retried["runId"]) == (handle.id, handle.result_run_id)
    assert "EMCO answered 503" in retried["message"]
    assert "exc_info" not in retried
    # Our activities' own lines name the run too, and say things in words, not reprs.
    ours = [line for line in lines if line["logger"] == "emco_migrate.emcomigrate.activities"]
    assert ours
    for line in ours:
        assert (line["workflowId"], line["runId"]) == (handle.id, handle.result_run_id), line
        assert line["activity"] and "(" + "app=" not in line["message"], line
    assert any(line["message"] == "DIG dig1 updated to revision 2" for line in ours)
    # Every line of the migration (its workflow's and its activities', the SDK's included)
    # names the DIG.
    migration = [line for line in lines if line.get("workflowId") == handle.id]
    assert {line["logger"] for line in migration} >= {
        "temporalio.workflow",
        "temporalio.activity",
        "emco_migrate.emcomigrate.activities",
    }
    dig = {
        "project": setup.project,
        "compositeApp": setup.composite_app,
        "compositeAppVersion": setup.version,
        "dig": setup.dig,
    }
    for line in migration:
        assert {key: line.get(key) for key in dig} == dig, line
    [raised] = [line for line in migration if line["logger"] == "temporalio.workflow"]
    assert raised["message"] == "HeartbeatTimeout of GetDigAppIntents raised to the 0:00:05 floor"
