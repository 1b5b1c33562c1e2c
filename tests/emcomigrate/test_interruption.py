"""Measuring the app interruption from status polls: the arithmetic, and the progress report."""

from __future__ import annotations

import random

from emco_migrate.emcomigrate.interruption import Tally, combined, from_details
from emco_migrate.emcomigrate.messages import AppInterruption
from emco_migrate.emcomigrate.progress import Progress

APP = "collectd"


def test_a_down_poll_counts_back_to_the_observation_before_it() -> None:
    tally = Tally([APP], {APP: 10.0})
    tally.observe(11.0, 11.125, {APP: True})
    tally.observe(12.0, 12.125, {APP: False})
    tally.observe(14.0, 14.125, {APP: False})
    tally.observe(15.0, 15.125, {APP: True})
    assert tally.measured() == (
        AppInterruption(
            APP, seconds=3.0, bound_seconds=2.125, observations=4, ready=True, observed_until=15.0
        ),
    )


def test_the_first_poll_counts_back_to_when_the_run_stopped_seeing_the_app() -> None:
    # The source may be gone right after the /update at 10, long before the first poll.
    tally = Tally([APP], {APP: 10.0})
    tally.observe(13.0, 13.25, {APP: False})
    tally.observe(14.0, 14.25, {APP: True})
    (app,) = tally.measured()
    assert (app.seconds, app.bound_seconds) == (3.0, 3.25)


def test_an_app_the_run_was_watching_counts_from_its_first_poll() -> None:
    tally = Tally([APP], {})
    tally.observe(5.0, 5.125, {APP: False})
    (app,) = tally.measured()
    assert (app.seconds, app.bound_seconds, app.ready) == (0.0, 0.125, False)


def test_an_unknown_answer_is_no_observation_and_widens_the_gap() -> None:
    tally = Tally([APP, "other"], {APP: 0.0, "other": 0.0})
    tally.observe(1.0, 1.5, {APP: True, "other": True})
    tally.observe(2.0, 2.5, {APP: None, "other": False})
    tally.observe(4.0, 4.5, {APP: False, "other": False})
    app, other = tally.measured()
    assert (app.seconds, app.bound_seconds, app.observations) == (3.0, 3.5, 2)
    assert (other.seconds, other.bound_seconds, other.observations) == (3.0, 2.5, 3)
    assert Tally([APP], {APP: 0.0}).measured() == ()  # never observed: nothing to report


def test_the_figure_is_within_the_largest_gap_of_one_real_interruption() -> None:
    rng = random.Random(13)
    for _ in range(500):
        since = 0.0
        down_from = rng.uniform(0.0, 5.0)
        down_until = down_from + rng.uniform(0.0, 10.0)
        tally = Tally([APP], {APP: since})
        at = since
        while at < down_until + 3.0:
            at += rng.uniform(0.01, 2.0)
            took = rng.uniform(0.0, 1.5)  # a slow EMCO: the reading may come late
            seen_at = at + rng.uniform(0.0, took)  # when, inside the poll, EMCO answered
            tally.observe(at, at + took, {APP: not down_from <= seen_at < down_until})
            at += took
        (app,) = tally.measured()
        truth = down_until - down_from
        assert abs(app.seconds - truth) <= app.bound_seconds, (app, truth)


def test_failure_details_carry_the_measurement() -> None:
    tally = Tally([APP], {APP: 1.0})
    tally.observe(2.0, 2.5, {APP: False})
    details = [{"waitingFor": ["collectd is not Ready"], **tally.details()}]
    assert from_details(details) == tally.measured()
    assert from_details([{"waitingFor": []}, "text"]) == ()
    assert from_details([{"interruptions": [{"app": APP}]}]) == ()  # incomplete: ignored


def test_consecutive_measurements_add_up() -> None:
    forward = AppInterruption(APP, 2.0, 1.5, 5, ready=False, observed_until=20.0)
    rollback = AppInterruption(APP, 1.0, 0.5, 3, ready=True, observed_until=25.0)
    assert combined(None, forward) == forward
    assert combined(forward, rollback) == AppInterruption(
        APP, seconds=3.0, bound_seconds=1.5, observations=8, ready=True, observed_until=25.0
    )


def test_progress_reports_the_largest_app_and_the_largest_bound() -> None:
    progress = Progress()
    assert Progress().interruption_seconds is None  # not measured yet
    assert progress.to_json()["appInterruption"] == {
        "seconds": None,
        "boundSeconds": None,
        "basis": "status polls",
        "apps": {},
    }
    progress.measured([AppInterruption(APP, 2.0, 0.5, 4, False, 10.0)])
    progress.measured(
        [
            AppInterruption(APP, 1.25, 1.0, 2, True, 12.0),  # the rollback's polls
            AppInterruption("other", 0.0, 2.0, 6, True, 12.0),
        ]
    )
    assert (progress.interruption_seconds, progress.interruption_bound_seconds) == (3.25, 2.0)
    assert progress.to_json()["appInterruption"] == {
        "seconds": 3.25,
        "boundSeconds": 2.0,
        "basis": "status polls",
        "apps": {
            APP: {"seconds": 3.25, "boundSeconds": 1.0, "observations": 6, "readyAtLastPoll": True},
            "other": {
                "seconds": 0.0,
                "boundSeconds": 2.0,
                "observations": 6,
                "readyAtLastPoll": True,
            },
        },
    }
