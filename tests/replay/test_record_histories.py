"""Records one EmcoMigrateWorkflow history per path into tests/fixtures/histories/.

Skipped unless EMCO_MIGRATE_RECORD_HISTORIES=1. Re-record every fixture (about two minutes,
against the session's dev server and emulator) with one command:

    EMCO_MIGRATE_RECORD_HISTORIES=1 .venv/bin/pytest tests/replay -q

A fixture is written only after its run ended the way that path should, so a bad recording
fails here instead of replacing a good history. Each file is exactly
``WorkflowHistory.to_json()``; tests/replay/test_replay.py replays them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHistory,
)
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from e2e.helpers import Handle, progress, start_migration, wait_for_state
from emco_migrate.emcomigrate.emco_client import new_http_client
from emco_migrate.emcomigrate.error_types import ErrorType
from emco_migrate.emcomigrate.evacuation import EvacuationInput, EvacuationRequest
from emco_migrate.emcomigrate.fleet import FleetScope
from emco_migrate.emcomigrate.names import TASK_QUEUE, WORKFLOW_EVACUATE
from emco_migrate.emcomigrate.types import ClusterRef
from emco_migrate.worker.main import activity_methods, workflow_classes
from support.emulator import Emulator, SampleSetup
from support.fleet import seed_project
from support.stack import Starter
from support.waiting import wait_for

from .paths import HISTORIES, PATHS, history_file

RECORD_ENV = "EMCO_MIGRATE_RECORD_HISTORIES"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        os.environ.get(RECORD_ENV) != "1", reason=f"records fixtures only with {RECORD_ENV}=1"
    ),
]

CLOSE_DEADLINE = 60.0
# Short timeouts and fast retries keep the runs, and so the histories, short.
RETRIES = {"InitialInterval": 200_000_000, "MaximumInterval": 1_000_000_000}
QUICK: dict[str, object] = {
    "all-activities": {"StartToCloseTimeout": 30_000_000_000, "RetryPolicy": RETRIES},
    # The shortest heartbeat timeout verification accepts (5 s): a verification whose
    # worker went away is retried by another after it.
    "VerifyMigration": {
        "StartToCloseTimeout": 30_000_000_000,
        "HeartbeatTimeout": 5_000_000_000,
        "RetryPolicy": RETRIES,
    },
}
CRASH_VERIFY_TIMEOUT = 10
SOURCE_READY_DELAY = 3.0  # long enough to stop the worker while the rollback is verified


@dataclass
class Recording:
    """What a recording needs: the dev server, the emulator and a fresh sample DIG."""

    client: Client
    starter: Starter
    emulator: Emulator
    setup: SampleSetup
    http: httpx.AsyncClient

    @asynccontextmanager
    async def worker(self, identity: str = "recorder") -> AsyncIterator[Worker]:
        """The production worker's workflows and activities, in the default sandbox, on the
        production queue (see `recording`)."""
        async with Worker(
            self.client,
            task_queue=TASK_QUEUE,
            workflows=workflow_classes(),
            activities=activity_methods(self.http),
            identity=identity,
        ) as running:
            yield running

    async def start(self, **params: str) -> Handle:
        return await start_migration(self.starter, self.setup, options=QUICK, **params)


@pytest.fixture
async def recording(
    temporal_client: Client, emulator_reset: Emulator, sample_setup: SampleSetup
) -> AsyncIterator[Recording]:
    # Not a test queue of its own: every recorded event names its task queue, so a random
    # one would change every fixture at each recording; the histories keep the production
    # queue, MIGRATION_TASK_Q. Recording is run on its own (EMCO_MIGRATE_RECORD_HISTORIES=1).
    starter = Starter(temporal_client, TASK_QUEUE)
    try:
        async with new_http_client() as http:
            yield Recording(temporal_client, starter, emulator_reset, sample_setup, http)
    finally:
        await starter.cleanup()


async def result(handle: Handle) -> dict[str, Any]:
    """The workflow's result, waiting at most CLOSE_DEADLINE."""
    answer: dict[str, Any] = await asyncio.wait_for(handle.result(), CLOSE_DEADLINE)
    return answer


async def failure(handle: Handle) -> BaseException:
    """The cause of the workflow's failure, waiting at most CLOSE_DEADLINE."""
    with pytest.raises(WorkflowFailureError) as caught:
        await asyncio.wait_for(handle.result(), CLOSE_DEADLINE)
    cause = caught.value.cause
    assert cause is not None
    return cause


async def save(handle: Handle, name: str) -> WorkflowHistory:
    """Write the closed workflow's full history as the fixture of ``name``."""
    assert name in PATHS
    history = await handle.fetch_history()
    HISTORIES.mkdir(parents=True, exist_ok=True)
    history_file(name).write_text(history.to_json())
    return history


def step_names(report: dict[str, Any]) -> list[str]:
    return [s["name"] for s in report["steps"]]


def compensated(report: dict[str, Any]) -> bool:
    """The forward verification ran, then the app intents were restored and the DIG rolled
    back (later compensation steps may be added without re-writing this check)."""
    names = step_names(report)
    return "VerifyMigration" in names and names[names.index("VerifyMigration") + 1 :][:2] == [
        "ApplyAppIntents",
        "RollbackDig",
    ]


PLANNED_ONLY = ["GetDigAppIntents", "SnapshotMigration"]


async def test_happy(recording: Recording) -> None:
    async with recording.worker():
        handle = await recording.start()
        done = await result(handle)
    assert done["phase"] == "completed"
    assert step_names(done)[-1] == "VerifyMigration"
    assert "ApplyAppIntents" not in step_names(done)
    await save(handle, "happy")


async def test_make_before_break(recording: Recording) -> None:
    async with recording.worker():
        handle = await recording.start(strategy="make-before-break")
        done = await result(handle)
    assert done["phase"] == "completed"
    assert step_names(done).count("VerifyMigration") == 2  # interim, then final placement
    assert done["plan"][0]["interimPlacement"]
    await save(handle, "make-before-break")


async def test_dry_run(recording: Recording) -> None:
    async with recording.worker():
        handle = await recording.start(dryRun="true")
        done = await result(handle)
    assert done["phase"] == "dry-run"
    assert step_names(done) == PLANNED_ONLY
    await save(handle, "dry-run")


async def test_no_op(recording: Recording) -> None:
    provider, cluster = recording.setup.source
    async with recording.worker():
        handle = await recording.start(targetClusterProvider=provider, targetClusterName=cluster)
        done = await result(handle)
    assert done["phase"] == "no-op"
    assert step_names(done) == PLANNED_ONLY
    await save(handle, "no-op")


async def test_refusal(recording: Recording) -> None:
    async with recording.worker():
        handle = await recording.start(targetClusterName="cluster9")
        cause = await failure(handle)
        report = await progress(handle)
    assert "target cluster provider2+cluster9 is unknown to EMCO" in str(cause)
    assert report["phase"] == "failed"
    assert report["message"].startswith("nothing was changed")
    assert step_names(report) == PLANNED_ONLY
    await save(handle, "refusal")


async def test_verification_timeout_rollback(recording: Recording) -> None:
    recording.emulator.set_cluster(*recording.setup.target, never_ready=True)
    async with recording.worker():
        handle = await recording.start(verifyTimeoutSeconds="2")
        cause = await failure(handle)
        report = await progress(handle)
    assert isinstance(cause, ApplicationError) and cause.type == ErrorType.ROLLED_BACK
    assert "VerifyMigration failed: migration not verified within 2s" in cause.message
    assert report["phase"] == "rolled-back"
    assert compensated(report)
    await save(handle, "verification-timeout-rollback")


async def test_cancel_during_verification(recording: Recording) -> None:
    recording.emulator.set_cluster(*recording.setup.target, never_ready=True)
    async with recording.worker():
        handle = await recording.start()
        await wait_for_state(handle, "VerifyMigration")
        await handle.cancel()
        await failure(handle)
        report = await progress(handle)
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    assert report["phase"] == "cancelled"
    assert report["message"].startswith("the workflow was cancelled; undone: restored")
    assert compensated(report)
    await save(handle, "cancel-during-verification")


async def test_compensation_after_crash(recording: Recording) -> None:
    """The worker goes away while the rollback's VerifyMigration runs; another finishes."""
    emulator, setup = recording.emulator, recording.setup
    emulator.set_cluster(*setup.target, never_ready=True)
    # The rollback redeploys on the source, so its verification waits this long.
    emulator.set_cluster(*setup.source, ready_delay_seconds=SOURCE_READY_DELAY)

    async def verifying_the_rollback() -> bool:
        report = await progress(handle)
        last = [(s["name"], s["outcome"]) for s in report["steps"][-1:]]
        return bool(
            report["phase"] == "compensating"
            and compensated(report)
            and last == [("VerifyMigration", "running")]
        )

    async with recording.worker("worker-before-crash"):
        handle = await recording.start(verifyTimeoutSeconds=str(CRASH_VERIFY_TIMEOUT))
        await wait_for(verifying_the_rollback, within=40.0, what="the rollback's verification")
    async with recording.worker("worker-after-crash"):
        cause = await failure(handle)
        report = await progress(handle)
    assert isinstance(cause, ApplicationError) and cause.type == ErrorType.ROLLED_BACK
    assert "verified Ready again: collectd on provider1+cluster1" in cause.message
    assert report["phase"] == "rolled-back"
    history = await save(handle, "compensation-after-crash")
    # The rollback's verification was retried by the second worker, which replayed the run.
    [*_, verify] = [
        e.event_id
        for e in history.events
        if e.activity_task_scheduled_event_attributes.activity_type.name == "VerifyMigration"
    ]
    [started] = [
        e.activity_task_started_event_attributes
        for e in history.events
        if e.activity_task_started_event_attributes.scheduled_event_id == verify
    ]
    assert (started.identity, started.attempt >= 2) == ("worker-after-crash", True)


async def evacuate_three(recording: Recording, name: str, **fields: Any) -> Handle:
    """Evacuate three DIGs on cluster1, two at a time; the handle once all three moved.
    The workflow ID is ``replay-<name>``: child IDs derive from it, so it is the one
    test_replay loads the history as."""
    digs = seed_project(recording.emulator.url, [("provider1", "cluster1")] * 3)
    request = EvacuationRequest(
        emco_url=recording.emulator.url,
        source=ClusterRef("provider1", "cluster1"),
        scope=FleetScope(projects=(digs[0].setup.project,)),
        max_in_flight=2,
        **fields,
    )
    async with recording.worker():
        handle = await recording.client.start_workflow(
            WORKFLOW_EVACUATE,
            EvacuationInput(request),
            id=f"replay-{name}",
            task_queue=TASK_QUEUE,
            result_type=dict,
        )
        done = await result(handle)
    assert done["counts"]["moved"] == 3
    return handle


async def test_evacuation(recording: Recording) -> None:
    # The sliding window, children and their ends.
    await save(await evacuate_three(recording, "evacuation"), "evacuation")


async def test_evacuation_continued(recording: Recording) -> None:
    # Two children per run: the first run ends by continuing as new with the packed plan
    # (patch packed-plan-1); that first run is the fixture.
    handle = await evacuate_three(recording, "evacuation-continued", children_per_run=2)
    first = recording.client.get_workflow_handle(
        handle.id, run_id=handle.first_execution_run_id, result_type=dict
    )
    history = await save(first, "evacuation-continued")
    assert history.events[-1].HasField("workflow_execution_continued_as_new_event_attributes")
