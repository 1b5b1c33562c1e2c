"""`emco-migrate migrate` from flags and `migrate-back`, round trip on the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import io

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from emco_migrate import cli
from support.emulator import Emulator, SampleSetup
from support.stack import Starter

from .helpers import app_intent, instantiated_revisions, placement, start_migration

pytestmark = pytest.mark.integration


def run(*args: str) -> tuple[int, list[str], str]:
    """``emco-migrate ARGS`` in-process: exit code, stdout lines, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue().splitlines(), err.getvalue()


async def test_migrate_from_flags_then_migrate_back_round_trips_the_dig(
    temporal_client: Client,
    temporal_address: str,
    worker: Worker,
    emulator_reset: Emulator,
    sample_setup: SampleSetup,
) -> None:
    setup = sample_setup
    before = app_intent(setup)["spec"]["intent"]
    common = ("--task-queue", worker.task_queue, "--address", temporal_address)
    code, out, err = await asyncio.to_thread(
        run,
        "migrate", "--emco-url", setup.url, "--project", setup.project,
        "--composite-app", setup.composite_app, "--version", setup.version, "--dig", setup.dig,
        "--to", "provider2/cluster2", "--verify-timeout", "60", "--id", "flags-" + setup.project,
        "--watch", *common,
    )  # fmt: skip
    assert code == 0, (out, err)
    assert out[0] == f"started migration flags-{setup.project} of dig1 to provider2+cluster2"
    assert any(": " in line and "]" in line for line in out[1:-1])  # the live lines
    assert out[-1] == "completed: migrated 1 app intent(s) to provider2+cluster2"
    assert placement(emulator_reset, setup) == {"provider2+cluster2": ["Ready", "Ready"]}
    # The spec is the one EMCO would send: the workflow read the same parameters.
    result = await temporal_client.get_workflow_handle(f"flags-{setup.project}").result()
    assert result["dig"]["deploymentIntentGroup"] == "dig1"

    code, out, err = await asyncio.to_thread(
        run, "migrate-back", f"flags-{setup.project}", "--watch", *common
    )
    assert code == 0, (out, err)
    assert out[0] == f"started migration flags-{setup.project}-back of dig1 to provider1+cluster1"
    assert out[-1] == "completed: migrated 1 app intent(s) to provider1+cluster1"
    assert app_intent(setup)["spec"]["intent"] == before
    assert placement(emulator_reset, setup) == {"provider1+cluster1": ["Ready", "Ready"]}
    assert instantiated_revisions(setup) == [1, 2, 3]

    # A run that moved nothing (a dry run) has nothing to move back: one line, exit 1.
    code, out, err = await asyncio.to_thread(
        run,
        "migrate", "--emco-url", setup.url, "--project", setup.project,
        "--composite-app", setup.composite_app, "--version", setup.version, "--dig", setup.dig,
        "--to", "provider2/cluster2", "--dry-run", "--id", "dry-" + setup.project, "--watch",
        *common,
    )  # fmt: skip
    assert (code, out[-1]) == (0, "dry-run: dry run: planned 1 app intent(s); nothing was written")
    code, out, err = await asyncio.to_thread(run, "migrate-back", "dry-" + setup.project, *common)
    assert (code, out) == (1, [])
    assert err.strip() == (
        "emco-migrate migrate-back: error: that migration did not complete a move "
        "(phase 'dry-run'); nothing to move back"
    )


async def test_status_watch_prints_each_change_while_the_migration_runs(
    temporal_address: str,
    worker: Worker,
    starter: Starter,
    emulator_reset: Emulator,
    sample_setup: SampleSetup,
) -> None:
    setup = sample_setup
    # The first attempts of GetDigAppIntents and UpdateAppIntents fail (three 503s: the EMCO
    # client's own tries) and the target takes 2 s to be Ready: planning, a retry and a
    # verification to watch.
    emulator_reset.add_fault(
        f"^{setup.dig_path}/generic-placement-intents$", 503, method="GET", count=3
    )
    emulator_reset.add_fault(f"^{setup.app_intent_path}$", 503, method="PUT", count=3)
    emulator_reset.set_cluster("provider2", "cluster2", ready_delay_seconds=2.0)
    options = {
        "all-activities": {
            "StartToCloseTimeout": 30_000_000_000,
            "RetryPolicy": {"InitialInterval": 2_000_000_000, "MaximumInterval": 2_000_000_000},
        }
    }
    handle = await start_migration(starter, setup, options=options)
    code, out, err = await asyncio.to_thread(
        run, "status", handle.id, "--watch", "--address", temporal_address
    )
    assert code == 0, (out, err)
    assert out[-1] == "COMPLETED: completed: migrated 1 app intent(s) to provider2+cluster2"
    lines = out[:-1]
    assert all(line.startswith("[") and "s] " in line for line in lines), lines
    assert len(lines) >= 3, lines  # one per change, not one per poll
    assert len(set(lines)) == len(lines)
    retrying = [line for line in lines if "[UpdateAppIntents attempt" in line]
    assert retrying and "EMCO answered 503" in retrying[0], lines
    shown = [line.split("s] ", 1)[1] for line in lines]
    assert shown[0].startswith("planning: running ")
    # The verification's first heartbeat comes with its first waiting poll: what it waits for.
    verifying = [line for line in shown if line.startswith("migrating: running VerifyMigration")]
    assert verifying and "is not Ready" in verifying[-1], shown
