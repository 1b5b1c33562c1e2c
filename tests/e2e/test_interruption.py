"""The measured app interruption (issue 13 item 5) against the emulator's ground truth."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.worker import Worker

from support.emulator import Emulator, SampleSetup
from support.stack import Starter

from .helpers import placement, progress, start_migration
from .test_reversible import QUICK

pytestmark = pytest.mark.integration

# Polls back off to every 2 s; a gap also holds one poll's few requests.
LARGEST_POLL_GAP = 2.5


async def test_direct_move_reports_the_interruption_within_its_bound_of_the_truth(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    # After the /update: the source is gone 3 s later, the target Ready 7 s later. Counting
    # from the /update to the target's readiness (ignoring the source) would be 3 s off.
    emulator_reset.set_cluster(*setup.source, ready_delay_seconds=6.0)
    emulator_reset.set_cluster(*setup.target, ready_delay_seconds=7.0)
    handle = await start_migration(starter, setup, options=QUICK)
    result: dict[str, Any] = await handle.result()

    truth = emulator_reset.availability(setup).apps[setup.app]
    assert len(truth.interruptions) == 1 and truth.interruptions[0][1] is not None
    assert truth.interruption_seconds == pytest.approx(4.0, abs=0.01)
    measured = result["appInterruption"]
    assert measured["basis"] == "status polls"
    assert 0 < measured["boundSeconds"] <= LARGEST_POLL_GAP
    assert measured["seconds"] > 0
    assert abs(measured["seconds"] - truth.interruption_seconds) <= measured["boundSeconds"]
    app = measured["apps"][setup.app]
    assert (app["seconds"], app["boundSeconds"]) == (measured["seconds"], measured["boundSeconds"])
    assert app["readyAtLastPoll"] is True
    assert app["observations"] >= 5
    assert (await progress(handle))["appInterruption"] == measured


async def test_make_before_break_reports_no_interruption(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    emulator_reset.set_cluster(*setup.source, ready_delay_seconds=1.5)
    emulator_reset.set_cluster(*setup.target, ready_delay_seconds=1.5)
    handle = await start_migration(starter, setup, options=QUICK, strategy="make-before-break")
    result: dict[str, Any] = await handle.result()

    truth = emulator_reset.availability(setup).apps[setup.app]
    assert truth.clusters["provider1+cluster1"][-1][1] is False  # the source went away
    assert truth.clusters["provider2+cluster2"][-1][1] is True
    assert (truth.interruptions, truth.interruption_seconds) == ((), 0.0)
    measured = result["appInterruption"]
    assert measured["seconds"] == 0.0
    assert 0 < measured["boundSeconds"] <= LARGEST_POLL_GAP
    assert measured["apps"][setup.app]["seconds"] == 0.0
    assert measured["apps"][setup.app]["observations"] >= 4  # both verifications polled


async def test_rolled_back_run_reports_the_interruption_until_the_source_is_back(
    worker: Worker, starter: Starter, emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    setup = sample_setup
    emulator_reset.set_cluster(*setup.target, never_ready=True)
    handle = await start_migration(starter, setup, options=QUICK, verifyTimeoutSeconds="2")
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert placement(emulator_reset, setup) == {"provider1+cluster1": ["Ready", "Ready"]}

    truth = emulator_reset.availability(setup).apps[setup.app]
    assert len(truth.interruptions) == 1 and truth.interruptions[0][1] is not None
    # The forward verification timed out after 2 s; the source was back only after that.
    assert truth.interruption_seconds > 2.0
    report = await progress(handle)
    assert report["phase"] == "rolled-back"
    measured = report["appInterruption"]
    assert 0 < measured["boundSeconds"] <= LARGEST_POLL_GAP
    assert abs(measured["seconds"] - truth.interruption_seconds) <= measured["boundSeconds"]
    assert measured["apps"][setup.app]["readyAtLastPoll"] is True
