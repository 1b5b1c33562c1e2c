"""The emulator's ground truth of app readiness: interval arithmetic, cluster clocks, and the
``/availability`` admin endpoint over (fake) time."""

from __future__ import annotations

import math
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from emco_migrate.emcosim.deploy.availability import (
    ClusterClock,
    gaps,
    subtract,
    union,
)
from emco_migrate.emcosim.store import Database
from emco_migrate.emcosim.store.clusters import ClockEntry, ClusterSettingsStore
from support.emulator import Availability, SampleSetup

from .conftest import Sim

# ----------------------------------------------------------------------- interval arithmetic


def test_union_merges_overlapping_and_touching_intervals() -> None:
    assert union([(5, 6), (1, 2), (2, 3), (2.5, 4), (7, 7)]) == [(1, 4), (5, 6)]
    assert union([(1, math.inf), (3, 4)]) == [(1, math.inf)]
    assert union([]) == []


def test_subtract_cuts_holes_out() -> None:
    assert subtract([(0, 10)], [(2, 3), (5, 6)]) == [(0, 2), (3, 5), (6, 10)]
    assert subtract([(0, 10)], [(-1, 11)]) == []
    assert subtract([(0, math.inf)], [(4, math.inf)]) == [(0, 4)]
    assert subtract([(0, 1), (2, 3)], []) == [(0, 1), (2, 3)]


def test_gaps_start_at_the_first_interval_and_stay_open_until_now() -> None:
    assert gaps([(1, 2), (4, math.inf)], now=10) == [(2, 4)]
    assert gaps([(1, 2), (3, 5)], now=10) == [(2, 3), (5, math.inf)]
    assert gaps([(1, 2), (20, 30)], now=10) == [(2, math.inf)]  # the future is not known
    assert gaps([], now=10) == []  # never Ready: nothing was interrupted


def test_cluster_clock_stands_still_while_unreachable() -> None:
    clock = ClusterClock(
        (
            ClockEntry(100.0, reachable=False, never_ready=False, paused_total=0.0),
            ClockEntry(110.0, reachable=True, never_ready=False, paused_total=10.0),
        )
    )
    assert clock.real_time(50.0) == 50.0  # before the cluster went away
    assert clock.real_time(100.0) == 100.0  # reached when it went away
    assert clock.real_time(101.0) == 111.0  # its clock resumed at 110 from 100
    assert clock.real_time(1e300) == math.inf
    assert ClusterClock((), paused_total=3.0).real_time(10.0) == 13.0


def test_cluster_clock_still_unreachable_has_not_reached_later_times() -> None:
    clock = ClusterClock((ClockEntry(100.0, False, False, 2.0),))
    assert clock.real_time(97.0) == 99.0
    assert clock.real_time(98.0) == 100.0
    assert clock.real_time(98.5) == math.inf


def test_cluster_clock_never_ready_periods() -> None:
    clock = ClusterClock(
        (
            ClockEntry(10.0, True, True, 0.0),
            ClockEntry(12.0, True, False, 0.0),
            ClockEntry(20.0, True, True, 0.0),
        )
    )
    assert clock.never_ready() == [(10.0, 12.0), (20.0, math.inf)]


def test_older_state_files_get_a_clock_entry_per_changed_cluster(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    Database(path).close()
    with closing(sqlite3.connect(path)) as conn:  # as a file of schema 1 would be
        conn.executescript(
            "DROP TABLE cluster_log; DROP TABLE resource_history; PRAGMA user_version = 1;"
            "INSERT INTO cluster_settings (provider, cluster, reachable, never_ready,"
            " paused_total, unreachable_since) VALUES ('p', 'c', 0, 1, 4.0, 50.0);"
        )
    db = Database(path)
    with db.read() as tx:
        assert ClusterSettingsStore(tx).log("p", "c") == [ClockEntry(50.0, False, True, 4.0)]
    db.close()


# ----------------------------------------------------------------------- the endpoint


def availability(sim: Sim, setup: SampleSetup) -> Availability:
    response = sim.client.get(
        f"/emulator/v1/projects/{setup.project}/composite-apps/{setup.composite_app}"
        f"/{setup.version}/deployment-intent-groups/{setup.dig}/availability"
    )
    assert response.status_code == 200, response.text
    return Availability.from_json(response.json())


def place(sim: Sim, setup: SampleSetup, *clusters: tuple[str, str]) -> None:
    """Point the app intent at ``clusters`` and /update."""
    body: dict[str, Any] = setup.app_intent_body(*clusters[0])
    body["spec"]["intent"] = {"allOf": [{"clusterProvider": p, "cluster": c} for p, c in clusters]}
    assert sim.client.put(setup.app_intent_path, json=body).status_code == 200
    assert sim.client.post(f"{setup.dig_path}/update").status_code == 202


def admin_put(sim: Sim, provider: str, cluster: str, body: dict[str, Any]) -> None:
    response = sim.client.put(f"/emulator/v1/clusters/{provider}/{cluster}", json=body)
    assert response.status_code == 200, response.text


def test_a_direct_move_is_interrupted_from_deletion_to_ready(sim: Sim) -> None:
    t0 = sim.clock.now
    setup = sim.setup()  # Ready on cluster1 at t0 + 2 (the in-process delay is 2 s)
    sim.clock.advance(5.0)
    place(sim, setup, setup.target)  # cluster1 gone at t0 + 6, cluster2 Ready at t0 + 7
    sim.clock.advance(1.5)
    during = availability(sim, setup).apps[setup.app]
    assert during.interruptions == ((t0 + 6, None),)
    assert during.interruption_seconds == 0.5
    sim.clock.advance(1.5)
    truth = availability(sim, setup)
    app = truth.apps[setup.app]
    assert app.clusters == {
        "provider1+cluster1": ((t0 + 2, True), (t0 + 6, False)),
        "provider2+cluster2": ((t0 + 7, True),),
    }
    assert app.interruptions == ((t0 + 6, t0 + 7),)
    assert (app.interruption_seconds, truth.interruption_seconds) == (1.0, 1.0)
    assert truth.now == t0 + 8


def test_make_before_break_is_never_interrupted(sim: Sim) -> None:
    t0 = sim.clock.now
    setup = sim.setup()
    sim.clock.advance(5.0)
    place(sim, setup, setup.source, setup.target)  # cluster2 Ready at t0 + 7
    sim.clock.advance(3.0)
    place(sim, setup, setup.target)  # cluster1 gone at t0 + 9
    sim.clock.advance(2.0)
    app = availability(sim, setup).apps[setup.app]
    assert app.clusters == {
        "provider1+cluster1": ((t0 + 2, True), (t0 + 9, False)),
        "provider2+cluster2": ((t0 + 7, True),),
    }
    assert (app.interruptions, app.interruption_seconds) == ((), 0.0)


def test_a_rollback_that_rolls_the_old_context_out_again_keeps_its_past(sim: Sim) -> None:
    t0 = sim.clock.now
    setup = sim.setup()
    sim.clock.advance(5.0)
    place(sim, setup, setup.target)
    sim.clock.advance(0.5)
    rollback = {"metadata": {"description": "back"}, "spec": {"revision": "1"}}
    assert sim.client.post(f"{setup.dig_path}/rollback", json=rollback).status_code == 202
    sim.clock.advance(3.0)
    app = availability(sim, setup).apps[setup.app]
    # The first context's resources were replaced at t0 + 5.5 and rolled out anew; the
    # target's were deleted before they were Ready.
    assert app.clusters == {
        "provider1+cluster1": ((t0 + 2, True), (t0 + 5.5, False), (t0 + 7.5, True)),
        "provider2+cluster2": (),
    }
    assert app.interruptions == ((t0 + 5.5, t0 + 7.5),)


def test_an_unreachable_target_makes_the_interruption_longer(sim: Sim) -> None:
    t0 = sim.clock.now
    setup = sim.setup()
    sim.clock.advance(4.0)
    admin_put(sim, "provider2", "cluster2", {"reachable": False})
    sim.clock.advance(1.0)
    place(sim, setup, setup.target)  # cluster1 gone at t0 + 6
    sim.clock.advance(5.0)
    admin_put(sim, "provider2", "cluster2", {"reachable": True})  # 6 s away in all
    sim.clock.advance(3.0)
    app = availability(sim, setup).apps[setup.app]
    # cluster2's clock stood at t0 + 4 for the 6 s: Ready at t0 + 4 + 2 + 6.
    assert app.clusters["provider2+cluster2"] == ((t0 + 12, True),)
    assert app.interruptions == ((t0 + 6, t0 + 12),)
    assert app.interruption_seconds == 6.0


def test_never_ready_counts_as_not_ready(sim: Sim) -> None:
    t0 = sim.clock.now
    setup = sim.setup()
    sim.clock.advance(3.0)
    admin_put(sim, "provider1", "cluster1", {"neverReady": True})
    sim.clock.advance(1.0)
    admin_put(sim, "provider1", "cluster1", {"neverReady": False})
    sim.clock.advance(1.0)
    app = availability(sim, setup).apps[setup.app]
    assert app.clusters == {
        "provider1+cluster1": ((t0 + 2, True), (t0 + 3, False), (t0 + 4, True)),
    }
    assert app.interruptions == ((t0 + 3, t0 + 4),)


def test_unknown_dig_is_a_404(sim: Sim) -> None:
    response = sim.client.get(
        "/emulator/v1/projects/nope/composite-apps/a/v1/deployment-intent-groups/d/availability"
    )
    assert response.status_code == 404
    assert response.json() == {"error": "no deployment intent group d"}
