"""Correct under faults (issue 9): bounded waits, exactly-once writes, one run per DIG,
compensation that undoes only our own writes, transient EMCO errors. Real dev server, the
emulator over HTTP, its fault API (error, hold-then-apply and random-rate faults)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.worker import Worker

from emco_migrate.devstack.processes import free_port
from emco_migrate.temporal_connection import TemporalSettings
from emco_migrate.workflowclients.http_server.app import HttpServerSettings, create_app
from emco_migrate.workflowclients.inspection import StatusRequest, get_status
from support.emulator import Emulator, SampleSetup, build_sample_setup
from support.stack import Starter, vector_input
from support.waiting import wait_for

from .conftest import WorkerProcesses
from .helpers import (
    Handle,
    actions,
    add_app,
    app_intent,
    emco_post,
    instantiated_revisions,
    placement,
    progress,
    start_migration,
    wait_for_state,
)

pytestmark = pytest.mark.integration

SECOND = 1_000_000_000
QUICK = {
    "all-activities": {
        "StartToCloseTimeout": 30 * SECOND,
        "HeartbeatTimeout": 5 * SECOND,
        "RetryPolicy": {"InitialInterval": SECOND // 5, "MaximumInterval": SECOND},
    }
}
# The samples' options (samples/intents/04.define-workflow-1.yaml), retries a little faster.
SAMPLE_OPTIONS = {
    "all-activities": {
        "StartToCloseTimeout": 60 * SECOND,
        "HeartbeatTimeout": 30 * SECOND,
        "RetryPolicy": {
            "InitialInterval": SECOND // 2,
            "BackoffCoefficient": 2,
            "MaximumInterval": 5 * SECOND,
            "MaximumAttempts": 5,
        },
    }
}


def with_step(options: dict[str, Any], step: str, **overrides: Any) -> dict[str, Any]:
    """``options`` plus an entry for ``step`` (the all-activities entry with overrides)."""
    entry = json.loads(json.dumps(options["all-activities"]))
    entry.update(overrides)
    return {**options, step: entry}


async def failure_of(handle: Handle) -> ApplicationError:
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


def posts(emulator: Emulator, setup: SampleSetup, action: str) -> int:
    """How many POSTs of ``action`` (update, rollback) reached the setup's DIG."""
    regex = f"^{re.escape(setup.dig_path)}/{action}$"
    return len(emulator.requests(method="POST", path_regex=regex))


def update_posts(emulator: Emulator, setup: SampleSetup) -> int:
    return posts(emulator, setup, "update")


def emco_put(setup: SampleSetup, path: str, body: dict[str, Any]) -> None:
    """A third party's PUT to EMCO."""
    httpx.put(f"{setup.url}{path}", json=body, timeout=10).raise_for_status()


async def until(probe: Callable[[], object], *, within: float, what: str) -> None:
    """Wait, with a deadline, until a synchronous ``probe`` is truthy."""

    async def condition() -> bool:
        return bool(probe())

    await wait_for(condition, within=within, what=what)


# ----------------------------------------------------------------------- bounded waits


async def test_unreachable_emco_fails_within_the_step_budget_with_a_one_line_reason(
    worker: Worker, starter: Starter, sample_setup: SampleSetup, temporal_client: Client
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    handle = await start_migration(
        starter, sample_setup, options={}, emcoURL=closed, stepBudgetSeconds="4"
    )

    seen: list[str] = []

    async def retrying() -> bool:
        description = await handle.describe()
        pending = description.raw_description.pending_activities
        if pending and pending[0].attempt >= 2 and pending[0].last_failure.message:
            seen.append(pending[0].last_failure.message)
        return bool(seen)

    await wait_for(retrying, within=10, what="a retried GetDigAppIntents")
    assert "unreachable" in seen[0] and closed in seen[0]
    failure = await failure_of(handle)
    assert time.monotonic() - started < 30
    message = failure.message
    assert "\n" not in message and len(message) < 600
    assert message.startswith("GetDigAppIntents failed after retrying for ")
    assert f"EMCO at {closed} unreachable" in message and "connection refused" in message
    # No tracebacks anywhere in the stored failure (far below Temporal's size limit).
    history = await handle.fetch_history()
    failed = [e for e in history.events if e.HasField("workflow_execution_failed_event_attributes")]
    stored = failed[0].workflow_execution_failed_event_attributes.failure
    assert stored.ByteSize() < 4_000
    chain = stored
    while True:
        assert chain.stack_trace == ""
        if not chain.HasField("cause"):
            break
        chain = chain.cause


# ------------------------------------------------------------------ exactly-once writes


async def test_update_held_past_the_activity_timeout_is_posted_once(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    emulator_reset.add_fault(f"{re.escape(setup.dig_path)}/update$", method="POST", hold_seconds=3)
    options = with_step(QUICK, "DoDigUpdate", StartToCloseTimeout=2 * SECOND)
    handle = await start_migration(starter, setup, options=options, writeSettleSeconds="5")
    result = await handle.result()
    assert result["phase"] == "completed"
    assert update_posts(emulator_reset, setup) == 1
    assert instantiated_revisions(setup) == [1, 2]
    assert placement(emulator_reset, setup) == {"provider2+cluster2": ["Ready", "Ready"]}
    steps = [s for s in result["steps"] if s["name"] == "DoDigUpdate"]
    assert [s["outcome"] for s in steps] == ["ok"]


async def test_late_app_intent_put_after_the_compensation_is_undone_again(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    before = app_intent(setup)
    emulator_reset.set_cluster("provider2", "cluster2", never_ready=True)
    # The first PUT of the app intent reaches EMCO 4 s late, after its attempt timed out
    # and after the compensation restored the original.
    emulator_reset.add_fault(f"^{re.escape(setup.app_intent_path)}$", method="PUT", hold_seconds=4)
    options = with_step(QUICK, "UpdateAppIntents", StartToCloseTimeout=SECOND)
    handle = await start_migration(
        starter, setup, options=options, verifyTimeoutSeconds="1", writeSettleSeconds="6"
    )
    failure = await failure_of(handle)
    assert failure.type == "MigrationRolledBack"
    assert "restored again after a late write" in failure.message
    assert "read back: app intents equal the snapshot" in failure.message
    assert app_intent(setup) == before
    puts = emulator_reset.requests(method="PUT", path_regex=f"^{re.escape(setup.app_intent_path)}$")
    assert len(puts) >= 3  # forward (late), forward retry, restore, restore again


async def test_sigkill_while_an_update_is_in_flight_posts_it_once(
    workers: WorkerProcesses, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    emulator_reset.add_fault(f"{re.escape(setup.dig_path)}/update$", method="POST", hold_seconds=2)
    first = workers.start()
    handle = await start_migration(starter, setup, options=QUICK, writeSettleSeconds="3")
    await until(lambda: update_posts(emulator_reset, setup) == 1, within=20, what="held /update")
    first.kill()  # the /update reaches EMCO after its worker died
    workers.start()
    result = await handle.result()
    assert result["phase"] == "completed"
    assert update_posts(emulator_reset, setup) == 1
    assert instantiated_revisions(setup) == [1, 2]


async def test_sigkill_while_a_rollback_is_in_flight_posts_it_once(
    workers: WorkerProcesses, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    before = app_intent(setup)
    emulator_reset.set_cluster("provider2", "cluster2", never_ready=True)
    emulator_reset.add_fault(
        f"{re.escape(setup.dig_path)}/rollback$", method="POST", hold_seconds=2
    )
    first = workers.start()
    handle = await start_migration(
        starter, setup, options=QUICK, verifyTimeoutSeconds="1", writeSettleSeconds="3"
    )
    await until(
        lambda: posts(emulator_reset, setup, "rollback") == 1, within=30, what="held /rollback"
    )
    first.kill()
    workers.start()
    failure = await failure_of(handle)
    assert failure.type == "MigrationRolledBack", failure.message
    assert posts(emulator_reset, setup, "rollback") == 1
    assert update_posts(emulator_reset, setup) == 1
    assert app_intent(setup) == before
    assert placement(emulator_reset, setup) == {"provider1+cluster1": ["Ready", "Ready"]}


async def test_sigkill_while_the_compensations_update_is_in_flight_posts_it_once(
    workers: WorkerProcesses, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    """The compensation's other POST: after a terminate and a re-instantiation, revision 1
    first names the old context, so RollbackDig re-applies the restored intents with /update."""
    setup = sample_setup
    emco_post(setup, f"{setup.dig_path}/terminate")
    emco_post(setup, f"{setup.dig_path}/instantiate")
    await until(
        lambda: placement(emulator_reset, setup) == {"provider1+cluster1": ["Ready", "Ready"]},
        within=20,
        what="the re-instantiated app Ready on cluster1",
    )
    before = app_intent(setup)
    emulator_reset.set_cluster("provider2", "cluster2", never_ready=True)
    first = workers.start()
    handle = await start_migration(
        starter, setup, options=QUICK, verifyTimeoutSeconds="1", writeSettleSeconds="3"
    )
    await until(lambda: update_posts(emulator_reset, setup) == 1, within=30, what="forward /update")
    # The compensation's /update reaches EMCO after the worker that posted it died.
    emulator_reset.add_fault(f"{re.escape(setup.dig_path)}/update$", method="POST", hold_seconds=2)
    await until(
        lambda: update_posts(emulator_reset, setup) == 2, within=30, what="compensation's /update"
    )
    first.kill()
    workers.start()
    failure = await failure_of(handle)
    assert failure.type == "MigrationRolledBack", failure.message
    assert update_posts(emulator_reset, setup) == 2
    assert posts(emulator_reset, setup, "rollback") == 0
    assert app_intent(setup) == before
    assert placement(emulator_reset, setup) == {"provider1+cluster1": ["Ready", "Ready"]}


# ---------------------------------------------------------------------- one run per DIG


async def verifying_in_vain(starter: Starter, emulator: Emulator, setup: SampleSetup) -> Handle:
    """A migration whose target never gets Ready, once it verifies (for 4 s)."""
    emulator.set_cluster("provider2", "cluster2", never_ready=True)
    handle = await start_migration(starter, setup, options=QUICK, verifyTimeoutSeconds="4")
    await wait_for_state(handle, "VerifyMigration")
    return handle


async def test_a_second_run_for_the_same_dig_is_refused_and_the_first_completes(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    emulator_reset.set_cluster("provider2", "cluster2", ready_delay_seconds=1.0)
    first = await start_migration(starter, setup, options=QUICK)
    second = await start_migration(
        starter, setup, options=QUICK, targetClusterProvider="provider1",
        targetClusterName="cluster1",
    )  # fmt: skip
    outcomes = await asyncio.gather(first.result(), second.result(), return_exceptions=True)
    completed = [o for o in outcomes if isinstance(o, dict)]
    refused = [o for o in outcomes if isinstance(o, WorkflowFailureError)]
    assert len(completed) == 1 and len(refused) == 1, outcomes
    cause = refused[0].cause
    assert isinstance(cause, ApplicationError) and cause.type == "DigBeingMigrated"
    winner = first if outcomes[0] is completed[0] else second
    assert f"by run {winner.id}" in cause.message
    assert "refused before any change" in cause.message
    # The app is where the completed run says.
    target = completed[0]["target"]
    ready = {k: v for k, v in placement(emulator_reset, setup).items() if "Ready" in v}
    assert list(ready) == [target]
    # Whichever run took the lock did its whole job; the run back to provider1 is a no-op.
    moved = completed[0]["phase"] == "completed"
    assert completed[0]["phase"] == ("completed" if target == "provider2+cluster2" else "no-op")
    assert instantiated_revisions(setup) == ([1, 2] if moved else [1])


async def lock_of(handle: Handle) -> str:
    """The workflow ID of the DIG lock a migration started as its child."""
    async for event in handle.fetch_history_events():
        if event.HasField("start_child_workflow_execution_initiated_event_attributes"):
            return event.start_child_workflow_execution_initiated_event_attributes.workflow_id
    raise AssertionError(f"{handle.id} started no DIG lock")


async def test_each_run_of_a_dig_takes_the_lock_the_moment_the_one_before_closed(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup,
    temporal_client: Client,
) -> None:  # fmt: skip
    setup = sample_setup
    back = {"targetClusterProvider": "provider1", "targetClusterName": "cluster1"}
    handles = []
    for there in ({}, back, {}, back):  # each started as soon as the one before returned
        handle = await start_migration(starter, setup, options=QUICK, **there)
        assert (await handle.result())["phase"] == "completed"
        handles.append(handle)
    assert instantiated_revisions(setup) == [1, 2, 3, 4, 5]
    # One lock workflow per DIG, released by each run closing (its parent close policy).
    (lock,) = {await lock_of(h) for h in handles}
    assert lock.endswith(f"/{setup.project}/capp1/v1/dig1")
    lock_handle = temporal_client.get_workflow_handle(lock)

    async def released() -> bool:
        return (await lock_handle.describe()).status != WorkflowExecutionStatus.RUNNING

    await wait_for(released, within=10, what="the last run's lock to end")
    closed = await lock_handle.describe()
    assert closed.status == WorkflowExecutionStatus.TERMINATED
    assert closed.parent_id == handles[-1].id


async def test_a_third_partys_change_during_verification_is_not_overwritten(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    handle = await verifying_in_vain(starter, emulator_reset, setup)
    theirs = setup.app_intent_body("provider3", "cluster3")
    theirs["metadata"]["description"] = "moved by hand"
    emco_put(setup, setup.app_intent_path, theirs)
    failure = await failure_of(handle)
    assert failure.type == "MigrationRollbackStopped", failure.message
    assert "someone else changed the DIG" in failure.message
    assert "now places allOf provider3+cluster3" in failure.message
    assert "recorded before this run: revision 1" in failure.message.lower()
    assert "allOf provider1+cluster1" in failure.message
    assert app_intent(setup)["metadata"]["description"] == "moved by hand"
    report = await progress(handle)
    assert report["phase"] == "rollback-stopped"


async def test_a_third_partys_update_during_verification_stops_the_rollback(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    handle = await verifying_in_vain(starter, emulator_reset, setup)
    emco_post(setup, f"{setup.dig_path}/update")
    failure = await failure_of(handle)
    assert failure.type == "MigrationRollbackStopped", failure.message
    assert "revision 3, not 2 as this run left it" in failure.message
    assert instantiated_revisions(setup) == [1, 2, 3]  # nothing rolled back over theirs


# --------------------------------------------------------- terminate, then the repair


async def test_terminate_mid_update_then_a_migration_back_restores_the_intents(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup,
    temporal_client: Client,
) -> None:  # fmt: skip
    setup = sample_setup
    add_app(setup, "nginx", "provider1", "cluster1")
    await until(
        lambda: "Ready" in placement(emulator_reset, setup, "nginx").get("provider1+cluster1", []),
        within=15,
        what="nginx Ready",
    )
    before = {
        name: app_intent(setup, name) for name in (setup.app_intent, "nginx-placement-intent")
    }
    # The second app's PUT keeps failing, so the run is stuck after writing the first.
    updates = update_posts(emulator_reset, setup)
    nginx = f"^{re.escape(setup.dig_path)}/.*/app-intents/nginx-placement-intent$"
    emulator_reset.add_fault(nginx, 503, method="PUT", count=10_000)
    handle = await start_migration(starter, setup, options=QUICK)
    written = setup.app_intent_body("provider2", "cluster2")["spec"]["intent"]
    await until(lambda: app_intent(setup)["spec"]["intent"] == written, within=15, what="write")
    await handle.terminate("operator stopped it")
    # Terminate does not stop an attempt already running: wait until the last one has given
    # up on the second intent (no PUT of it for over a second) before the fault goes.

    def quiet() -> bool:
        tries = emulator_reset.requests(method="PUT", path_regex=nginx)
        last_arrived: float = max(t["arrivedAt"] for t in tries)
        return time.time() - last_arrived > 1.5

    await until(quiet, within=20, what="the terminated run's last attempt to end")
    emulator_reset.clear_faults()
    assert app_intent(setup)["spec"]["intent"] == written  # one intent moved
    assert app_intent(setup, "nginx-placement-intent") == before["nginx-placement-intent"]
    assert update_posts(emulator_reset, setup) == updates  # and no /update
    # status says which intent the terminated run wrote.
    found = await get_status(temporal_client, StatusRequest(handle.id, query_type="progress"))
    states = {i["appIntent"]: i["state"] for i in found.query_result["intentsInEmco"]}
    assert states == {setup.app_intent: "written", "nginx-placement-intent": "original"}

    back = await start_migration(
        starter, setup, options=QUICK, targetClusterProvider="provider1",
        targetClusterName="cluster1",
    )  # fmt: skip
    result = await back.result()
    assert result["phase"] == "completed", result["message"]
    assert {name: app_intent(setup, name) for name in before} == before


# ------------------------------------------------------------------ transient errors


async def test_sixty_migrations_under_ten_percent_503s_all_end_correct(
    worker: Worker, starter: Starter, emulator_reset: Emulator
) -> None:
    setups = [build_sample_setup(emulator_reset.url, wait_ready=False) for _ in range(60)]
    for setup in setups:

        def sample_app_ready(s: SampleSetup = setup) -> bool:
            return placement(emulator_reset, s) == {"provider1+cluster1": ["Ready"] * 2}

        await until(
            sample_app_ready,
            within=30,
            what="sample app Ready",
        )
    befores = [app_intent(s) for s in setups]
    emulator_reset.add_fault("^/v2/", 503, rate=0.1, seed=9)
    handles = [
        # A 503 answers at once, so no late write can follow it: a short settle keeps the
        # suite fast on two cores (the settle wait itself is tested above).
        await start_migration(
            starter, s, options=SAMPLE_OPTIONS, verifyTimeoutSeconds="60", writeSettleSeconds="5"
        )
        for s in setups
    ]
    outcomes = await asyncio.gather(*(h.result() for h in handles), return_exceptions=True)
    emulator_reset.clear_faults()
    tally: dict[str, int] = {}
    for setup, before, outcome in zip(setups, befores, outcomes, strict=True):
        if isinstance(outcome, dict):
            tally["completed"] = tally.get("completed", 0) + 1
            assert outcome["phase"] == "completed"
            assert placement(emulator_reset, setup) == {"provider2+cluster2": ["Ready", "Ready"]}
            continue
        assert isinstance(outcome, WorkflowFailureError), outcome
        cause = outcome.cause
        assert isinstance(cause, ApplicationError)
        tally[cause.type or "?"] = tally.get(cause.type or "?", 0) + 1
        assert cause.type in ("MigrationRolledBack", "MigrationStepFailed"), cause.message
        assert app_intent(setup) == before
        assert placement(emulator_reset, setup) == {"provider1+cluster1": ["Ready", "Ready"]}
    assert tally.get("completed", 0) >= 55, tally
    statuses = [(await h.describe()).status for h in handles]
    assert WorkflowExecutionStatus.RUNNING not in statuses
    assert actions(setups[0])[-1]["state"] == "Instantiated"


async def test_invoke_for_a_dig_another_run_migrates_is_409_naming_it(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup,
    temporal_address: str, temporal_client: Client, task_queue: str,
) -> None:  # fmt: skip
    setup = sample_setup
    emulator_reset.set_cluster("provider2", "cluster2", never_ready=True)
    first = await start_migration(starter, setup, options=QUICK, verifyTimeoutSeconds="30")
    await wait_for_state(first, "VerifyMigration")
    second_id = f"{first.id}-second"
    params = json.loads(vector_input(options=QUICK, **setup.activity_params()))
    body = {"workflowStartOptions": {"ID": second_id}, "workflowParams": params}
    app = create_app(
        HttpServerSettings(
            temporal=TemporalSettings(address=temporal_address), task_queue=task_queue
        )
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://wfc") as http,
    ):
        response = await http.post("/invoke/migrate_workflowclient", json=body)
    assert response.status_code == 409
    assert f"already being migrated by workflow {first.id!r}" in response.json()["error"]
    with pytest.raises(RPCError):
        await temporal_client.get_workflow_handle(second_id).describe()  # never started
    await first.cancel()
