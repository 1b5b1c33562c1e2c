"""What `evacuate --watch` and `status` print for an evacuation: header, table, omissions."""

from __future__ import annotations

from typing import Any

from emco_migrate.workflowclients.evacuate_cli import report_header, report_table


def report(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "evacuation": "evacuate-c1",
        "kind": "evacuation",
        "emcoURL": "http://emco:9015",
        "phase": "running",
        "message": "1 moved, 1 in flight, 0 pending, 0 rolled back, 0 failed, 1 not started",
        "source": "provider1+cluster1",
        "paused": False,
        "maxInFlight": 2,
        "counts": {"pending": 0, "running": 1, "moved": 1, "rolled back": 0, "failed": 0}
        | {"not started": 1},
        "etaSeconds": 42.4,
        "digs": [
            {
                "dig": "p/ca/v1/dig-a",
                "target": "provider2+cluster2",
                "from": "",
                "outcome": "moved",
                "reason": "",
                "workflowID": "evacuate-c1/p/ca/v1/dig-a",
                "seconds": 12.25,
            },
            {
                "dig": "p/ca/v1/dig-bb",
                "target": "provider3+cluster3",
                "from": "",
                "outcome": "running",
                "reason": "",
                "workflowID": "evacuate-c1/p/ca/v1/dig-bb",
                "seconds": None,
            },
            {
                "dig": "p/ca/v1/dig-c",
                "target": "provider2+cluster2",
                "from": "",
                "outcome": "not started",
                "reason": "not started: window closed",
                "workflowID": "",
                "seconds": None,
            },
        ],
        "skipped": [{"dig": "p/ca/v1/dig-d", "reason": "not instantiated (Approved)"}],
    }
    return base | changes


def test_the_table_has_one_aligned_row_per_dig_then_the_skipped() -> None:
    lines = report_table(report())
    assert lines == [
        "  DIG             MOVE                                      OUTCOME      SECONDS  REASON / CHILD WORKFLOW",  # noqa: E501
        "  p/ca/v1/dig-a   provider1+cluster1 -> provider2+cluster2  moved           12.2  evacuate-c1/p/ca/v1/dig-a",  # noqa: E501
        "  p/ca/v1/dig-bb  provider1+cluster1 -> provider3+cluster3  running               evacuate-c1/p/ca/v1/dig-bb",  # noqa: E501
        "  p/ca/v1/dig-c   provider1+cluster1 -> provider2+cluster2  not started           not started: window closed",  # noqa: E501
        "  skipped p/ca/v1/dig-d: not instantiated (Approved)",
    ]


def test_the_header_says_who_how_far_and_how_long() -> None:
    assert report_header(report(), "RUNNING") == [
        "evacuation evacuate-c1 (RUNNING): running",
        "  source provider1+cluster1, EMCO http://emco:9015, at most 2 in flight",
        "  2 of 3 DIG(s) done: 1 moved, 1 in flight, 0 pending, 0 rolled back, 0 failed, "
        "1 not started; about 42s left",
    ]
    paused = report_header(report(paused=True, phase="completed"))
    assert paused[0] == "evacuation evacuate-c1: completed"
    assert paused[1].endswith(", paused")
    assert "left" not in paused[2]


def test_a_large_fleet_says_what_it_left_out() -> None:
    lines = report_table(report(digs=[], digsOmitted=9_990, skippedOmitted=12))
    assert lines == [
        "  ... and 9990 moved DIG(s) not listed (-o json: packedDigs)",
        "  skipped p/ca/v1/dig-d: not instantiated (Approved)",
        "  ... and 12 more skipped",
    ]


def test_a_failback_names_the_evacuation_it_follows() -> None:
    evacuated = {"evacuation": "evacuate-c1", "message": "40 moved"}
    header = report_header(report(kind="failback", evacuated=evacuated))
    assert header[0].startswith("failback evacuate-c1")
    assert header[-1] == "  after evacuation evacuate-c1: 40 moved"
