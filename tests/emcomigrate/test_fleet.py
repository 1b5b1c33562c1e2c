"""Evacuation planning (pure): selection, the auto target rule, budgets, windows, ETA."""

from __future__ import annotations

from dataclasses import replace

import pytest

from emco_migrate.emcomigrate import fleet
from emco_migrate.emcomigrate.evacuation import EvacuationRequest
from emco_migrate.emcomigrate.fleet import (
    DigOutcome,
    DigRecord,
    Discovery,
    FailureBudget,
    FleetScope,
)
from emco_migrate.emcomigrate.types import ClusterRef, ParamError
from support.fleet import moved_entries

C1, C2, C3 = ClusterRef("p1", "c1"), ClusterRef("p2", "c2"), ClusterRef("p3", "c3")
CLOUD = (C1, C2, C3)


def record(dig: str, *, state: str = "Instantiated", on_source: int = 1) -> DigRecord:
    intents = tuple((f"{dig}-gpi", f"{dig}-app{i}-intent", f"app{i}") for i in range(on_source))
    return DigRecord("proj", "ca", "v1", dig, state, CLOUD, intents)


def test_only_instantiated_digs_with_something_on_the_source_are_selected() -> None:
    found = Discovery(
        (
            record("b"),
            record("a"),
            record("idle", state="Approved"),
            record("elsewhere", on_source=0),
        )
    )
    planned = fleet.plan(found, C1, C2)
    assert [e.dig for e in planned.entries] == ["a", "b"]  # stable order: by key
    assert {s.key: s.reason for s in planned.skipped} == {
        "proj/ca/v1/idle": "not instantiated (Approved)",
        "proj/ca/v1/elsewhere": "nothing placed on p1+c1",
    }


def test_auto_picks_the_cluster_with_fewest_app_intents_and_spreads_the_fleet() -> None:
    found = Discovery(tuple(record(f"d{i}") for i in range(5)), placed=((C2, 2),))
    targets = [e.target for e in fleet.plan(found, C1, None).entries]
    # c3 holds none, c2 two: c3, c3, then a tie at two each goes to the smaller name (c2).
    assert targets == [C3, C3, C2, C3, C2]


def test_auto_honours_exclusions_and_reports_a_dig_with_no_target() -> None:
    lonely = replace(record("x"), logical_cloud_clusters=(C1, C2))
    planned = fleet.plan(Discovery((lonely,)), C1, None, exclude=(C2,))
    assert planned.entries == ()
    assert [s.reason for s in planned.skipped] == ["no usable target in its logical cloud"]


def test_an_app_intent_count_moves_with_the_plan() -> None:
    found = Discovery((record("a", on_source=3), record("b")), placed=())
    assert [e.target for e in fleet.plan(found, C1, None).entries] == [C2, C3]


@pytest.mark.parametrize(
    ("text", "selected", "allowed"),
    [("0", 50, 0), ("2", 50, 2), ("10%", 50, 5), ("10%", 9, 0), ("100%", 7, 7)],
)
def test_failure_budgets(text: str, selected: int, allowed: int) -> None:
    assert FailureBudget.parse(text).allowed(selected) == allowed


@pytest.mark.parametrize("text", ["", "-1", "150%", "two", "1.5", "%"])
def test_bad_failure_budgets_name_the_field(text: str) -> None:
    with pytest.raises(ParamError) as caught:
        FailureBudget.parse(text)
    assert caught.value.field == "failureBudget"


def test_scope_filters_with_globs() -> None:
    scope = FleetScope(projects=("p",), digs=("edge-*",))
    assert scope.covers("p", "any", "edge-1")
    assert not scope.covers("p", "any", "core-1")
    assert not scope.covers("q", "any", "edge-1")
    assert FleetScope().covers("q", "x", "y")


def test_closing_marks_only_the_pending_and_eta_uses_the_mean_duration() -> None:
    entries = [
        fleet.DigEntry(
            "k1", "p", "ca", "v", "d1", outcome=DigOutcome.MOVED, started_at=0, ended_at=10
        ),
        fleet.DigEntry("k2", "p", "ca", "v", "d2", outcome=DigOutcome.RUNNING, started_at=5),
        fleet.DigEntry("k3", "p", "ca", "v", "d3"),
        fleet.DigEntry("k4", "p", "ca", "v", "d4"),
    ]
    assert fleet.eta_seconds(entries, 2) == 20.0  # 3 left, 2 at a time, 10 s each
    closed = fleet.close_pending(entries, "not started: window closed")
    assert [e.outcome for e in closed] == [
        DigOutcome.MOVED, DigOutcome.RUNNING, DigOutcome.NOT_STARTED, DigOutcome.NOT_STARTED
    ]  # fmt: skip
    assert fleet.counts(closed)["not started"] == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"max_in_flight": 0}, "maxInFlight"),
        ({"target": ClusterRef("p1", "c1")}, "target"),
        ({"failure_budget": "lots"}, "failureBudget"),
        ({"strategy": "teleport"}, "strategy"),
        ({"window_end": "tomorrow"}, "windowEnd"),
        ({"start_at": "2026-12-02T02:00:00"}, "startAt"),  # no UTC offset
        ({"emco_url": ""}, "emcoURL"),
        ({"write_settle_seconds": -1}, "writeSettleSeconds"),
    ],
)
def test_requests_are_checked_naming_the_field(change: dict[str, object], field: str) -> None:
    request = replace(EvacuationRequest(emco_url="http://emco", source=C1), **change)  # type: ignore[arg-type]
    with pytest.raises(ParamError) as caught:
        request.check()
    assert caught.value.field == field


# Temporal warns about a payload over 512 KiB and refuses one over 2 MiB (the server's
# default blob size limits); a plan must stay under the warning.
PAYLOAD_WARNING = 512 * 1024


def test_a_ten_thousand_dig_plan_packs_into_one_payload_and_back() -> None:
    entries = moved_entries(10_000, "evacuate-provider1-cluster1")
    plan = fleet.FleetPlan(entries, (fleet.Skipped("a/b/v1/c", "nothing placed on p1+c1"),))
    packed = fleet.pack(plan, fleet.FleetPlan)
    assert len(packed) < PAYLOAD_WARNING
    assert fleet.unpack(packed, fleet.FleetPlan) == plan


def test_a_ten_thousand_dig_discovery_packs_into_one_payload() -> None:
    records = tuple(
        replace(record(f"dig-{i:05d}", on_source=2), project=f"edge-site-{i % 40:03d}")
        for i in range(10_000)
    )
    packed = fleet.pack(records, fleet.Records)
    assert len(packed) < PAYLOAD_WARNING
    found = Discovery(placed=((C1, 20_000),), packed_digs=packed)
    assert found.records() == records
    assert len(fleet.plan(found, C1, None).entries) == 10_000


def test_priority_globs_order_the_plan_and_get_first_pick_of_targets() -> None:
    found = Discovery(tuple(record(d) for d in ("a-core", "b-edge", "c-core", "d-ran", "e-edge")))
    planned = fleet.plan(found, C1, None, priority=("*/d-ran", "*-edge"))
    assert [e.dig for e in planned.entries] == ["d-ran", "b-edge", "e-edge", "a-core", "c-core"]
    assert planned.entries[0].target == C2  # first in line, first pick (a tie: smaller name)
    unordered = fleet.plan(found, C1, None)
    assert [e.dig for e in unordered.entries] == ["a-core", "b-edge", "c-core", "d-ran", "e-edge"]
