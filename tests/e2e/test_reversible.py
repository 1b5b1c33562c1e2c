"""Verified, reversible migration (issue 4) on a real dev server and the EMCO emulator."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from emco_migrate import cli
from emco_migrate.emcomigrate.names import QUERY_CURRENT_STATE
from support.emulator import Emulator, SampleSetup, wait_app_ready
from support.stack import Starter

from .helpers import (
    actions,
    add_app,
    add_cluster,
    app_intent,
    emco_post,
    instantiated_revisions,
    placement,
    progress,
    start_migration,
    wait_for_state,
)

pytestmark = pytest.mark.integration

QUICK = {
    "all-activities": {
        "StartToCloseTimeout": 30_000_000_000,
        "RetryPolicy": {"InitialInterval": 200_000_000, "MaximumInterval": 1_000_000_000},
    }
}


def assert_restored(
    emulator: Emulator, setup: SampleSetup, before: dict[str, Any], context: str
) -> None:
    """The app intent equals the snapshot, the original context is current again, and the
    app is Ready on the source and nowhere else."""
    assert app_intent(setup) == before
    last = actions(setup)[-1]
    assert (last["state"], last["instance"]) == ("Instantiated", context)
    assert placement(emulator, setup) == {"provider1+cluster1": ["Ready", "Ready"]}


async def test_happy_path_waits_for_ready_target_and_empty_source(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    emulator_reset.set_cluster("provider2", "cluster2", ready_delay_seconds=1.5)
    handle = await start_migration(starter, setup, options=QUICK)
    await wait_for_state(handle, "VerifyMigration")
    waiting = await progress(handle)
    assert [a["status"] for a in waiting["apps"]] == ["verifying"]
    # The target is not Ready yet, so the workflow must still be running.
    assert "Ready" not in placement(emulator_reset, setup).get("provider2+cluster2", [])
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING

    result: dict[str, Any] = await handle.result()
    assert placement(emulator_reset, setup) == {"provider2+cluster2": ["Ready", "Ready"]}
    done = await progress(handle)
    assert done["phase"] == "completed"
    assert [(s["name"], s["outcome"]) for s in done["steps"]] == [
        ("GetDigAppIntents", "ok"),
        ("SnapshotMigration", "ok"),
        ("UpdateAppIntents", "ok"),
        ("DoDigUpdate", "ok"),
        ("VerifyMigration", "ok"),
    ]
    assert all(s["seconds"] is not None for s in done["steps"])
    assert done["steps"][-1]["seconds"] >= 1.0
    assert (done["baseRevision"], done["newRevision"]) == (1, 2)
    assert done["plan"][0]["currentPlacement"] == {
        "allOf": [{"clusterProvider": "provider1", "cluster": "cluster1"}]
    }
    assert result["steps"] == done["steps"]


async def test_target_never_ready_rolls_everything_back(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    before = app_intent(setup)
    context = actions(setup)[-1]["instance"]
    emulator_reset.set_cluster("provider2", "cluster2", never_ready=True)
    handle = await start_migration(starter, setup, options=QUICK, verifyTimeoutSeconds="2")

    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "MigrationRolledBack"
    message = cause.message
    assert "VerifyMigration failed: migration not verified within 2s" in message
    assert message.count("VerifyMigration failed") == 1
    assert "restored the app intents of collectd" in message
    assert "rolled the DIG back to revision 1's context" in message
    assert "verified Ready again: collectd on provider1+cluster1" in message
    assert_restored(emulator_reset, setup, before, context)
    assert await handle.query(QUERY_CURRENT_STATE) == "VerifyMigration"
    report = await progress(handle)
    assert report["phase"] == "rolled-back"
    assert [a["status"] for a in report["apps"]] == ["rolled-back"]


async def test_cancel_during_verification_restores_and_ends_cancelled(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup,
    temporal_address: str, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    setup = sample_setup
    before = app_intent(setup)
    context = actions(setup)[-1]["instance"]
    emulator_reset.set_cluster("provider2", "cluster2", never_ready=True)
    handle = await start_migration(starter, setup, options=QUICK)
    await wait_for_state(handle, "VerifyMigration")

    capsys.readouterr()
    # `cancel --wait` returns once the compensation has ended, and says how it ended.
    code = await asyncio.to_thread(
        cli.main, ["cancel", handle.id, "--wait", "--address", temporal_address]
    )
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0] == f"cancellation requested for workflow {handle.id}; waiting for it to end"
    assert out[1].startswith(f"workflow {handle.id} ended CANCELED: ")
    assert "undone: restored the app intents of collectd" in out[1]
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert_restored(emulator_reset, setup, before, context)
    report = await progress(handle)
    assert report["phase"] == "cancelled"
    assert report["message"].startswith("the workflow was cancelled; undone: restored")
    # `status` says so too, although a cancellation carries no message of its own: in its
    # summary (the default) and in the JSON document
    capsys.readouterr()
    code = await asyncio.to_thread(cli.main, ["status", handle.id, "--address", temporal_address])
    assert code == 0
    summary = capsys.readouterr().out.splitlines()
    assert summary[0] == f"migration {handle.id}: cancelled (Temporal: CANCELED)"
    assert summary[1].startswith("  the workflow was cancelled; undone: restored")
    rows = {line[2:13].strip(): line[13:] for line in summary[2:] if line[2:13].strip()}
    assert "undone: restored the app intents of collectd" in rows["failure"]
    assert rows["placement"] == "collectd: provider1+cluster1 -> provider2+cluster2 (rolled-back)"
    assert rows["revision"].startswith("1 -> ")
    assert rows["steps"].split()[:3] == ["GetDigAppIntents", rows["steps"].split()[1], "s"]
    code = await asyncio.to_thread(
        cli.main, ["status", handle.id, "-o", "json", "--address", temporal_address]
    )
    assert code == 0
    status = json.loads(capsys.readouterr().out)
    assert status["workflowStatus"] == "CANCELED"
    assert "undone: restored the app intents of collectd" in status["workflowFailure"]
    # and there is nothing left to cancel
    code = await asyncio.to_thread(cli.main, ["cancel", handle.id, "--address", temporal_address])
    assert code == 1
    assert capsys.readouterr().err.strip() == (
        f"emco-migrate cancel: error: workflow {handle.id!r} already ended (CANCELED); "
        "nothing to cancel"
    )


async def test_three_503s_on_the_app_intent_put_are_retried(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    emulator_reset.add_fault(f"^{setup.app_intent_path}$", 503, method="PUT", count=3)
    handle = await start_migration(starter, setup, options=QUICK)
    await handle.result()
    assert emulator_reset.faults() == []
    assert app_intent(setup)["spec"]["intent"]["allOf"] == [
        {"clusterProvider": "provider2", "cluster": "cluster2"}
    ]
    assert instantiated_revisions(setup) == [1, 2]


async def test_make_before_break_never_leaves_the_app_nowhere(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    emulator_reset.set_cluster("provider2", "cluster2", ready_delay_seconds=2.0)
    samples: list[dict[str, list[str]]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(placement(emulator_reset, setup))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        handle = await start_migration(starter, setup, options=QUICK, strategy="make-before-break")
        await handle.result()
    finally:
        stop.set()
        sampler.join()
    assert len(samples) >= 10  # the run takes seconds; a sample takes milliseconds
    assert all(samples), "the app was on no cluster at some point"
    # it ran on both clusters at some point, and ends on the target only
    assert any(len(s) == 2 for s in samples)
    assert placement(emulator_reset, setup) == {"provider2+cluster2": ["Ready", "Ready"]}
    report = await progress(handle)
    assert [s["name"] for s in report["steps"]] == [
        "GetDigAppIntents", "SnapshotMigration", "ApplyAppIntents", "DoDigUpdate",
        "VerifyMigration", "UpdateAppIntents", "DoDigUpdate", "VerifyMigration",
    ]  # fmt: skip
    assert instantiated_revisions(setup) == [1, 2, 3]
    assert report["plan"][0]["interimPlacement"]["allOf"] == [
        {"clusterProvider": "provider1", "cluster": "cluster1"},
        {"clusterProvider": "provider2", "cluster": "cluster2"},
    ]


async def test_dry_run_returns_the_plan_and_writes_nothing(
    worker: Worker, starter: Starter, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    before = app_intent(setup)
    log_before = actions(setup)
    handle = await start_migration(starter, setup, dryRun="true")
    result: dict[str, Any] = await handle.result()
    assert result["phase"] == "dry-run"
    assert result["message"].startswith("dry run: planned 1 app intent(s)")
    [plan] = result["plan"]
    assert plan["newPlacement"] == {
        "allOf": [{"clusterProvider": "provider2", "cluster": "cluster2"}]
    }
    assert plan["currentPlacement"] == before["spec"]["intent"]
    assert app_intent(setup) == before
    assert actions(setup) == log_before


async def test_apps_and_source_filters_migrate_only_what_they_select(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    add_app(setup, "other", "provider1", "cluster1")
    with emulator_reset.client() as client:
        wait_app_ready(client, setup, "provider1", "cluster1")

    handle = await start_migration(starter, setup, apps="other")
    await handle.result()
    assert placement(emulator_reset, setup, "other") == {"provider2+cluster2": ["Ready"]}
    assert set(placement(emulator_reset, setup)) == {"provider1+cluster1"}

    # Now only collectd runs on cluster1: the source filter selects it alone.
    handle = await start_migration(
        starter, setup, sourceClusterProvider="provider1", sourceClusterName="cluster1"
    )
    result: dict[str, Any] = await handle.result()
    assert [a["app"] for a in result["apps"]] == ["collectd"]
    assert set(placement(emulator_reset, setup)) == {"provider2+cluster2"}


async def test_unknown_app_names_are_refused(
    worker: Worker, starter: Starter, sample_setup: SampleSetup
) -> None:
    handle = await start_migration(starter, sample_setup, apps="collectd,nope")
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    assert "unknown app(s) nope; the DIG's app intents cover: collectd" in str(caught.value.cause)
    assert instantiated_revisions(sample_setup) == [1]
    report = await progress(handle)
    assert report["phase"] == "failed"
    assert report["message"].startswith("nothing was changed: SnapshotMigration failed: apps:")


async def test_already_on_target_is_a_no_op(
    worker: Worker, starter: Starter, sample_setup: SampleSetup
) -> None:
    handle = await start_migration(
        starter, sample_setup, targetClusterProvider="provider1", targetClusterName="cluster1"
    )
    result: dict[str, Any] = await handle.result()
    assert result["phase"] == "no-op"
    assert result["message"] == (
        "every selected app already runs only on provider1+cluster1: nothing to do"
    )
    assert instantiated_revisions(sample_setup) == [1]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"targetClusterName": "cluster9"}, "target cluster provider2+cluster9 is unknown to EMCO"),
        ({"deploymentIntentGroup": "nope"}, "EMCO answered 400"),
    ],
)
async def test_refuses_to_start_on_bad_targets(
    worker: Worker, starter: Starter, sample_setup: SampleSetup, params: dict[str, str],
    expected: str,
) -> None:  # fmt: skip
    handle = await start_migration(starter, sample_setup, options=None, **params)
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    assert expected in str(caught.value.cause)
    assert instantiated_revisions(sample_setup) == [1]


async def test_refuses_a_dig_that_is_not_instantiated(
    worker: Worker, starter: Starter, sample_setup: SampleSetup
) -> None:
    emco_post(sample_setup, f"{sample_setup.dig_path}/terminate")
    handle = await start_migration(starter, sample_setup)
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    assert "DIG dig1 is Terminated, not Instantiated" in str(caught.value.cause)


async def test_refuses_a_target_outside_the_logical_cloud(
    worker: Worker, starter: Starter, sample_setup: SampleSetup
) -> None:
    provider = f"p-{sample_setup.project}"
    add_cluster(sample_setup, provider, "outside")
    handle = await start_migration(
        starter, sample_setup, targetClusterProvider=provider, targetClusterName="outside"
    )
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    assert f"target cluster {provider}+outside is not in logical cloud default" in str(
        caught.value.cause
    )
    assert instantiated_revisions(sample_setup) == [1]


@pytest.mark.parametrize(("param", "service"), [("clmURL", "clm"), ("dcmURL", "dcm")])
async def test_a_url_that_is_not_the_service_is_named(
    worker: Worker, starter: Starter, sample_setup: SampleSetup, param: str, service: str
) -> None:
    # Like pointing clmURL at a real EMCO's orchestrator port: every path is a bare 404.
    elsewhere = f"{sample_setup.url}/not-{service}"
    handle = await start_migration(starter, sample_setup, options=None, **{param: elsewhere})
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    message = str(caught.value.cause)
    assert f"{elsewhere} does not serve EMCO's {service} API" in message
    assert f"set the activity parameter {param}" in message
