"""Evacuating a cluster against the real dev server and the emulator: what moved, where, how
many at once, the failure budget, dry run, pause/resume and abort."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from e2e.helpers import emco_get, listed
from emco_migrate import cli
from emco_migrate.devstack import fleet_seed
from emco_migrate.emcoctl.documents import read_resources
from emco_migrate.emcomigrate import fleet
from emco_migrate.emcomigrate.evacuation import EvacuationInput, EvacuationRequest
from emco_migrate.emcomigrate.fleet import DigEntry, FleetPlan, FleetScope
from emco_migrate.emcomigrate.names import (
    QUERY_PROGRESS,
    SIGNAL_ABORT,
    SIGNAL_FAILBACK_NOW,
    SIGNAL_PAUSE,
    SIGNAL_RESUME,
    UPDATE_MAX_IN_FLIGHT,
    WORKFLOW_EVACUATE,
)
from emco_migrate.emcomigrate.types import ClusterRef
from emco_migrate.temporal_connection import TemporalSettings
from emco_migrate.workflowclients.evacuate_cli import exit_code, failback_input
from emco_migrate.workflowclients.http_server.app import HttpServerSettings, create_app
from support.emulator import Emulator
from support.fleet import FleetDig, moved_entries, placed_on, seed_project
from support.waiting import wait_for

from .conftest import WorkerProcesses

INTENTS = Path(__file__).resolve().parents[2] / "samples" / "intents"
CLUSTER1 = ClusterRef("provider1", "cluster1")
Evacuation = WorkflowHandle[Any, dict[str, Any]]


@pytest.fixture
async def evacuations(temporal_client: Client) -> AsyncIterator[list[Evacuation]]:
    """Started evacuations; any still running at the end is terminated."""
    started: list[Evacuation] = []
    yield started
    for handle in started:
        if (await handle.describe()).close_time is None:
            await handle.terminate("test teardown")


async def evacuate(
    client: Client,
    worker: Worker,
    started: list[Evacuation],
    projects: list[str],
    **fields: Any,
) -> Evacuation:
    url = fields.pop("emco_url")
    request = EvacuationRequest(
        emco_url=url, source=CLUSTER1, scope=FleetScope(projects=tuple(projects)), **fields
    )
    handle: Evacuation = await client.start_workflow(
        WORKFLOW_EVACUATE,
        EvacuationInput(request),
        id=f"test-evacuate-{uuid.uuid4().hex[:8]}",
        task_queue=worker.task_queue,
        result_type=dict,
    )
    started.append(handle)
    return handle


def by_key(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["dig"]: d for d in report["digs"]}


def digs_mid_update(emulator: Emulator, projects: set[str]) -> set[tuple[str, str]]:
    """(project, DIG) of every DIG the emulator shows mid-rollout: a resource of it on some
    cluster that is not Ready (being applied, not ready yet, or being deleted)."""
    return {
        (r.project, r.dig)
        for _, _, r in emulator.resources()
        if r.project in projects and r.state != "Ready"
    }


def most_overlapping_updates(emulator: Emulator, projects: set[str]) -> int:
    """From the emulator's request log: the most DIGs that were at once between their first
    app-intent PUT and their `/update` (a DIG's writes, in arrival order)."""
    spans: dict[str, list[float]] = {}
    for entry in emulator.requests():
        parts = entry["path"].split("/")
        if len(parts) < 9 or parts[3] not in projects or (entry["status"] or 0) >= 300:
            continue
        spans.setdefault("/".join(parts[3:9]), []).append(entry["arrivedAt"])
    events = sorted(
        [(min(times), 1) for times in spans.values()]
        + [(max(times), -1) for times in spans.values()]
    )
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


async def test_evacuation_moves_exactly_the_forty_digs_on_the_source_four_at_a_time(
    temporal_client: Client, worker: Worker, emulator: Emulator, evacuations: list[Evacuation]
) -> None:
    """The issue's fleet: 40 DIGs in two projects on cluster1, 6 on cluster2."""
    c1, c2, c3 = ("provider1", "cluster1"), ("provider2", "cluster2"), ("provider3", "cluster3")
    first = seed_project(emulator.url, [c1] * 20 + [c2] * 6)
    second = seed_project(emulator.url, [c1] * 20)
    idle = seed_project(emulator.url, [c1], instantiate=False)
    projects = [first[0].setup.project, second[0].setup.project, idle[0].setup.project]
    emulator.clear_requests()
    handle = await evacuate(
        temporal_client, worker, evacuations, projects, emco_url=emulator.url, max_in_flight=4
    )
    most_running = 0
    most_mid_update = 0
    samples = 0

    async def finished() -> bool:
        nonlocal most_running, most_mid_update, samples
        progress: dict[str, Any] = await handle.query(QUERY_PROGRESS)
        most_running = max(most_running, progress["counts"]["running"])
        mid = await asyncio.to_thread(digs_mid_update, emulator, set(projects))
        most_mid_update = max(most_mid_update, len(mid))
        samples += 1
        return bool(progress["phase"] == "completed")

    await wait_for(finished, within=150, what="the evacuation to complete")
    report = await handle.result()
    moved = [d for d in first + second if d.cluster == c1]
    untouched = [d for d in first if d.cluster == c2]
    assert len(moved) == 40
    digs = by_key(report)
    assert sorted(digs) == sorted(d.key for d in moved)
    assert {d["outcome"] for d in digs.values()} == {"moved"}
    # Sampled throughout: never more than four of them at once, as the workflow counts its
    # children and as the emulator sees rollouts and writes.
    assert samples >= 20
    assert 1 <= most_running <= 4
    assert 1 <= most_mid_update <= 4
    assert most_overlapping_updates(emulator, set(projects)) <= 4
    # Each moved DIG's app intent now places it on one other cluster; the auto rule spreads
    # them over cluster2 and cluster3 (fewest app intents first), the six on cluster2 stay.
    targets = Counter(tuple(placed_on(d)) for d in moved)
    assert set(targets) <= {(c2,), (c3,)}
    assert abs((targets[(c2,)] + 6) - targets[(c3,)]) <= 1
    assert all(placed_on(d) == [c2] for d in untouched)
    skipped = {s["dig"]: s["reason"] for s in report["skipped"]}
    assert skipped == {
        idle[0].key: "not instantiated (Approved)",
        **{d.key: "nothing placed on provider1+cluster1" for d in untouched},
    }
    assert placed_on(idle[0]) == [c1]
    # Verified: every moved app is Ready on its new cluster, nothing of it is left on cluster1.
    for dig in moved:
        where = {
            (p, c, r.state)
            for p, c, r in emulator.resources(project=dig.setup.project, dig=dig.setup.dig)
        }
        assert where == {(*placed_on(dig)[0], "Ready")}, (dig.key, where)
    # `list` shows the evacuation and, by its ID, the forty migrations it started.
    address = temporal_client.service_client.config.target_host

    async def listed_with_outcomes() -> bool:
        runs = await listed(address, "--evacuation", handle.id, "--limit", "100")
        return len(runs) == 40 and all(r["outcome"] == "completed" for r in runs)

    await wait_for(listed_with_outcomes, within=20, what="the evacuation's forty migrations")
    children = await listed(address, "--evacuation", handle.id, "--limit", "100")
    assert sorted(r["workflowId"] for r in children) == sorted(
        d["workflowID"] for d in digs.values()
    )
    assert {r["project"] for r in children} == set(projects[:2])
    assert {tuple(r["source"]) for r in children} == {("provider1+cluster1",)}
    ours = [
        r
        for r in await listed(address, "--cluster", "provider1/cluster1", "--outcome", "completed")
        if r["workflowId"] == handle.id
    ]
    assert [(r["kind"], r["source"], r["target"]) for r in ours] == [
        ("evacuation", ["provider1+cluster1"], None)
    ]


async def test_the_failure_budget_stops_new_starts_and_says_so(
    temporal_client: Client, worker: Worker, emulator_reset: Emulator, evacuations: list[Evacuation]
) -> None:
    digs = seed_project(emulator_reset.url, [("provider1", "cluster1")] * 6)
    for dig in digs[:3]:  # their /update is refused after the app intent was written
        emulator_reset.add_fault(f"{dig.setup.dig_path}/update$", 422, method="POST", count=100)
    handle = await evacuate(
        temporal_client,
        worker,
        evacuations,
        [digs[0].setup.project],
        emco_url=emulator_reset.url,
        max_in_flight=1,
        failure_budget="2",
        target=ClusterRef("provider2", "cluster2"),
        write_settle_seconds=1,  # how long each rollback waits for a late /update
    )
    report = await handle.result()
    outcomes = {k: (d["outcome"], d["reason"]) for k, d in by_key(report).items()}
    for dig in digs[:3]:  # each moved its app intent, then restored it
        assert outcomes[dig.key][0] == "rolled back", outcomes[dig.key]
        assert placed_on(dig) == [("provider1", "cluster1")]
        puts = emulator_reset.requests("PUT", f"{dig.setup.app_intent_path}$")
        assert len(puts) == 2, puts
    for dig in digs[3:]:
        assert outcomes[dig.key] == ("not started", "not started: failure budget (2) exhausted")
        assert placed_on(dig) == [("provider1", "cluster1")]
    assert report["counts"]["rolled back"] == 3


async def test_dry_run_returns_the_plan_and_writes_nothing(
    temporal_client: Client, worker: Worker, emulator_reset: Emulator, evacuations: list[Evacuation]
) -> None:
    digs = seed_project(emulator_reset.url, [("provider1", "cluster1")] * 3)
    emulator_reset.clear_requests()
    handle = await evacuate(
        temporal_client,
        worker,
        evacuations,
        [digs[0].setup.project],
        emco_url=emulator_reset.url,
        dry_run=True,
        priority=("*/dig-002",),
    )
    report = await handle.result()
    assert report["phase"] == "dry run"
    # dig-002 first (the priority glob), then by key; auto targets in that order.
    assert [(d["dig"], d["outcome"], d["target"]) for d in report["digs"]] == [
        (digs[2].key, "pending", "provider2+cluster2"),
        (digs[0].key, "pending", "provider3+cluster3"),
        (digs[1].key, "pending", "provider2+cluster2"),
    ]
    writes = [r for r in emulator_reset.requests() if r["method"] != "GET"]
    assert writes == []


def status(address: str, *args: str) -> tuple[int, str, str]:
    """``emco-migrate status ARGS``: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["status", *args, "--address", address])
    return code, out.getvalue(), err.getvalue()


async def test_pause_holds_new_starts_resume_continues_and_abort_restores(
    temporal_client: Client,
    temporal_address: str,
    worker: Worker,
    emulator_reset: Emulator,
    evacuations: list[Evacuation],
) -> None:
    digs = seed_project(emulator_reset.url, [("provider1", "cluster1")] * 4)
    handle = await evacuate(
        temporal_client,
        worker,
        evacuations,
        [digs[0].setup.project],
        emco_url=emulator_reset.url,
        max_in_flight=1,
        target=ClusterRef("provider2", "cluster2"),
    )

    async def counts() -> dict[str, int]:
        progress: dict[str, Any] = await handle.query(QUERY_PROGRESS)
        return dict(progress["counts"])

    async def first_started() -> bool:
        return (await counts())["running"] == 1

    await wait_for(first_started, within=30, what="the first child to start")
    await handle.signal(SIGNAL_PAUSE)

    async def first_done_while_paused() -> bool:
        c = await counts()
        return c["moved"] + c["failed"] + c["rolled back"] >= 1 and c["running"] == 0

    await wait_for(first_done_while_paused, within=60, what="the child in flight to finish")
    assert (await counts())["pending"] == 3  # paused: nothing new started
    # `status` of a running evacuation: a header and one row per DIG, from its progress.
    code, out, _ = await asyncio.to_thread(status, temporal_address, handle.id)
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == f"evacuation {handle.id} (RUNNING): running"
    assert "at most 1 in flight, paused" in lines[1]
    assert lines[2].startswith("  1 of 4 DIG(s) done: ")
    assert lines[3].split() == [
        "DIG",
        "MOVE",
        "OUTCOME",
        "SECONDS",
        "REASON",
        "/",
        "CHILD",
        "WORKFLOW",
    ]
    rows = {line.split()[0]: line.split() for line in lines[4:8]}
    assert sorted(rows) == sorted(d.key for d in digs)
    assert sorted(row[4] for row in rows.values()) == ["moved", "pending", "pending", "pending"]
    await handle.signal(SIGNAL_RESUME)
    assert await handle.execute_update(UPDATE_MAX_IN_FLIGHT, 2) == 2
    # Hold the next moves in verification, then abort: the children in flight compensate.
    emulator_reset.set_cluster("provider2", "cluster2", never_ready=True)

    async def some_running() -> bool:
        return (await counts())["running"] >= 1

    await wait_for(some_running, within=30, what="a child in flight after resume")
    await handle.signal(SIGNAL_ABORT)
    report = await handle.result()
    assert report["phase"] == "aborted"
    outcomes = {k: d["outcome"] for k, d in by_key(report).items()}
    assert "running" not in outcomes.values()
    for dig in digs:
        if outcomes[dig.key] != "moved":
            assert placed_on(dig) == [("provider1", "cluster1")], outcomes
    assert list(outcomes.values()).count("rolled back") >= 1
    code, out, _ = await asyncio.to_thread(status, temporal_address, handle.id)
    assert (code, out.splitlines()[0]) == (0, f"evacuation {handle.id} (COMPLETED): aborted")
    code, out, _ = await asyncio.to_thread(status, temporal_address, handle.id, "-o", "json")
    assert (code, json.loads(out)["workflowResult"]) == (0, report)
    child = next(d["workflowID"] for d in report["digs"] if d["workflowID"])
    code, out, err = await asyncio.to_thread(status, temporal_address, child, "-o", "table")
    assert (code, out) == (1, "")
    assert err.strip().splitlines() == [
        f"emco-migrate status: error: -o table shows evacuations; {child} runs "
        "EmcoMigrateWorkflow: use -o summary or -o json"
    ]


async def test_continue_as_new_keeps_history_bounded_and_moves_each_dig_once(
    temporal_client: Client,
    worker: Worker,
    emulator_reset: Emulator,
    evacuations: list[Evacuation],
) -> None:
    """A few hundred DIGs on clusters that are Ready at once: three runs of 80 children."""
    emulator = emulator_reset
    for provider, cluster in (("provider1", "cluster1"), ("provider3", "cluster3")):
        emulator.set_cluster(provider, cluster, ready_delay_seconds=0)
    digs = seed_project(emulator.url, [("provider1", "cluster1")] * 240)
    emulator.clear_requests()
    handle = await evacuate(
        temporal_client,
        worker,
        evacuations,
        [digs[0].setup.project],
        emco_url=emulator.url,
        max_in_flight=30,
        children_per_run=80,
        target=ClusterRef("provider3", "cluster3"),
    )
    report = await handle.result()
    assert report["counts"]["moved"] == 240
    runs = [
        execution.run_id
        async for execution in temporal_client.list_workflows(f"WorkflowId = '{handle.id}'")
    ]
    assert len(runs) == 3  # 240 children, 80 per run
    for run_id in runs:
        history = await temporal_client.get_workflow_handle(
            handle.id, run_id=run_id
        ).fetch_history()
        assert len(history.events) < 20 * 80 + 50, f"run {run_id}: {len(history.events)} events"
    children = [d["workflowID"] for d in report["digs"]]
    assert len(set(children)) == 240
    # Nothing lost or repeated across the runs: one /update per DIG, every app Ready on
    # cluster3 and nothing left on cluster1.
    updates = Counter(
        e["path"].removesuffix("/update")
        for e in emulator.requests("POST", r".*/update$")
        if (e["status"] or 0) < 300
    )
    assert updates == Counter({d.seeded.dig_path: 1 for d in digs})
    deployed = {
        (r.dig, provider, cluster, r.state)
        for provider, cluster, r in emulator.resources(project=digs[0].setup.project)
    }
    assert deployed == {(d.setup.dig, "provider3", "cluster3", "Ready") for d in digs}


def updated_once(dig: FleetDig) -> bool:
    """Whether EMCO's action log shows the DIG's first instantiation and exactly one update."""
    revisions = {
        a["revision"]
        for a in emco_get(dig.setup, f"{dig.setup.dig_path}/status")["states"]["actions"]
        if a["state"] == "Instantiated"
    }
    return len(revisions) == 2


# Temporal warns about a payload over 512 KiB and refuses one over 2 MiB.
PAYLOAD_WARNING = 512 * 1024


async def test_ten_thousand_digs_continue_as_new_in_one_payload_each_run(
    temporal_client: Client, worker: Worker, emulator: Emulator, evacuations: list[Evacuation]
) -> None:
    """Scale: a plan of 10,000 DIGs (9,990 already moved, as late in a long evacuation; 10 real
    ones left) continues as new twice; each run's input stays under Temporal's payload
    warning, the report answers with the whole fleet, and a failback carries all 10,000."""
    evacuation_id = f"test-evacuate-{uuid.uuid4().hex[:8]}"
    real = seed_project(emulator.url, [("provider1", "cluster1")] * 10)
    left = tuple(
        DigEntry(
            d.key,
            d.setup.project,
            fleet_seed.COMPOSITE_APP,
            fleet_seed.VERSION,
            d.setup.dig,
            (fleet_seed.APP,),
            ClusterRef("provider3", "cluster3"),
            ((d.seeded.gpi, d.seeded.app_intent_path.rsplit("/", 1)[1]),),
        )
        for d in real
    )
    plan = FleetPlan(moved_entries(9_990, evacuation_id) + left)
    request = EvacuationRequest(
        emco_url=emulator.url, source=CLUSTER1, max_in_flight=4, children_per_run=4
    )
    handle: Evacuation = await temporal_client.start_workflow(
        WORKFLOW_EVACUATE,
        EvacuationInput(request, plan=fleet.pack(plan, FleetPlan)),
        id=evacuation_id,
        task_queue=worker.task_queue,
        result_type=dict,
    )
    evacuations.append(handle)
    report = await handle.result()
    assert report["counts"]["moved"] == 10_000
    assert (report["digs"], report["digsOmitted"]) == ([], 10_000)  # every one moved
    everything = fleet.unpack(report["packedDigs"], fleet.Entries)
    assert [e.key for e in everything] == [e.key for e in plan.entries]
    assert {e.child_id for e in everything[-10:]} == {f"{evacuation_id}/{d.key}" for d in real}
    runs = [
        execution.run_id
        async for execution in temporal_client.list_workflows(f"WorkflowId = '{evacuation_id}'")
    ]
    assert len(runs) == 3  # 4 + 4 + 2 children
    for run_id in runs:
        history = await temporal_client.get_workflow_handle(
            evacuation_id, run_id=run_id
        ).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        size = sum(len(p.data) for p in started.input.payloads)
        assert size < PAYLOAD_WARNING, f"run {run_id}: input of {size} bytes"
        assert len(history.events) < 20 * 4 + 50
    for dig in real:
        assert updated_once(dig)
        assert placed_on(dig) == [("provider3", "cluster3")]
    back = failback_input(report, max_in_flight=10, budget="0")
    assert len(back.failback_entries() or ()) == 10_000
    assert len(back.failback_plan) < PAYLOAD_WARNING


def put_intent(dig: FleetDig, provider: str, cluster: str) -> None:
    """Someone else re-places the DIG's app intent by hand."""
    body = dig.setup.app_intent_body(provider, cluster)
    httpx.put(
        f"{dig.setup.url}{dig.setup.app_intent_path}", json=body, timeout=10
    ).raise_for_status()


async def test_failback_at_returns_every_moved_dig_and_skips_one_changed_by_hand(
    temporal_client: Client, worker: Worker, emulator: Emulator, evacuations: list[Evacuation]
) -> None:
    digs = seed_project(emulator.url, [("provider1", "cluster1")] * 3)
    # The evacuation's window closes before the failback: it bounds the evacuation only.
    window_end = datetime.now(UTC) + timedelta(seconds=12)
    handle = await evacuate(
        temporal_client,
        worker,
        evacuations,
        [digs[0].setup.project],
        emco_url=emulator.url,
        target=ClusterRef("provider2", "cluster2"),
        window_end=window_end.isoformat(),
        failback_at="2099-01-01T00:00:00Z",
    )

    async def waiting_for_failback() -> bool:
        progress: dict[str, Any] = await handle.query(QUERY_PROGRESS)
        return bool(progress["phase"] == "waiting for failback")

    await wait_for(waiting_for_failback, within=60, what="the evacuation to wait for failback")
    assert all(placed_on(d) == [("provider2", "cluster2")] for d in digs)
    put_intent(digs[1], "provider3", "cluster3")  # changed since the evacuation

    async def window_closed() -> bool:
        return datetime.now(UTC) > window_end + timedelta(seconds=1)

    await wait_for(window_closed, within=30, what="the evacuation's window to close")
    await handle.signal(SIGNAL_FAILBACK_NOW)  # brought forward from 2099
    report = await handle.result()
    assert report["kind"] == "failback"
    assert report["evacuated"]["counts"]["moved"] == 3
    assert {d["dig"]: d["outcome"] for d in report["digs"]} == {
        digs[0].key: "moved",
        digs[2].key: "moved",
    }
    assert [s["dig"] for s in report["skipped"]] == [digs[1].key]
    assert report["skipped"][0]["reason"].startswith("changed since evacuation: ")
    assert placed_on(digs[0]) == placed_on(digs[2]) == [("provider1", "cluster1")]
    assert placed_on(digs[1]) == [("provider3", "cluster3")]


async def test_failback_command_input_from_a_finished_evacuation(
    temporal_client: Client, worker: Worker, emulator: Emulator, evacuations: list[Evacuation]
) -> None:
    digs = seed_project(emulator.url, [("provider1", "cluster1")] * 2)
    handle = await evacuate(
        temporal_client, worker, evacuations, [digs[0].setup.project], emco_url=emulator.url
    )
    report = await handle.result()
    start_at = datetime.now(UTC) + timedelta(seconds=3)
    value = failback_input(report, max_in_flight=2, budget="0", start_at=start_at.isoformat())
    back: Evacuation = await temporal_client.start_workflow(
        WORKFLOW_EVACUATE,
        value,
        id=f"{handle.id}-failback",
        task_queue=worker.task_queue,
        result_type=dict,
    )
    evacuations.append(back)
    progress: dict[str, Any] = await back.query(QUERY_PROGRESS)
    assert (progress["phase"], progress["message"]) == (
        "waiting",
        f"waiting until {start_at.isoformat()}",
    )
    assert all(placed_on(d) != [("provider1", "cluster1")] for d in digs)  # not yet back
    result = await back.result()
    assert datetime.now(UTC) >= start_at
    assert result["counts"]["moved"] == 2
    assert all(placed_on(d) == [("provider1", "cluster1")] for d in digs)


async def test_the_samples_start_an_evacuation_through_the_http_server(
    temporal_client: Client,
    temporal_address: str,
    worker: Worker,
    emulator: Emulator,
    evacuations: list[Evacuation],
) -> None:
    digs = seed_project(emulator.url, [("provider1", "cluster1")] * 2)
    [intent] = read_resources(INTENTS / "08.define-evacuation.yaml", INTENTS / "values-local.yaml")
    assert intent.spec is not None
    temporal = intent.spec["temporal"]
    params = temporal["workflowParams"]["activityParams"]["all-activities"]
    params.update(emcoURL=emulator.url, dcmURL=emulator.url, projects=digs[0].setup.project)
    evacuation_id = f"test-sample-evacuation-{uuid.uuid4().hex[:8]}"
    temporal["workflowStartOptions"]["id"] = evacuation_id
    app = create_app(
        HttpServerSettings(
            temporal=TemporalSettings(address=temporal_address), task_queue=worker.task_queue
        )
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://workflowclient"
        ) as http,
    ):
        response = await http.post("/invoke/evacuate_workflowclient", json=temporal)
        assert response.status_code == 204, response.text
        refused = await http.post(
            "/invoke/evacuate_workflowclient",
            json={**temporal, "workflowParams": {"activityParams": {"all-activities": {
                **params, "maxInFlite": "4"}}}},
        )  # fmt: skip
        assert refused.status_code == 400
        assert "did you mean 'maxInFlight'" in refused.json()["error"]
    handle: Evacuation = temporal_client.get_workflow_handle(evacuation_id, result_type=dict)
    evacuations.append(handle)
    report = await handle.result()
    assert report["counts"]["moved"] == 2
    assert all(placed_on(d) != [("provider1", "cluster1")] for d in digs)


async def test_an_evacuation_survives_two_worker_kills_and_updates_each_dig_once(
    temporal_client: Client,
    workers: WorkerProcesses,
    emulator_reset: Emulator,
    evacuations: list[Evacuation],
) -> None:
    digs = seed_project(emulator_reset.url, [("provider1", "cluster1")] * 6)
    emulator_reset.set_cluster("provider2", "cluster2", ready_delay_seconds=1.5)
    process = workers.start()
    request = EvacuationRequest(
        emco_url=emulator_reset.url,
        source=CLUSTER1,
        target=ClusterRef("provider2", "cluster2"),
        scope=FleetScope(projects=(digs[0].setup.project,)),
        max_in_flight=2,
    )
    handle: Evacuation = await temporal_client.start_workflow(
        WORKFLOW_EVACUATE,
        EvacuationInput(request),
        id=f"test-evacuate-kill-{uuid.uuid4().hex[:8]}",
        task_queue=workers.task_queue,
        result_type=dict,
    )
    evacuations.append(handle)
    for moved_before_kill in (1, 3):

        async def moved(n: int = moved_before_kill) -> bool:
            progress: dict[str, Any] = await handle.query(QUERY_PROGRESS)
            return bool(progress["counts"]["moved"] >= n and progress["counts"]["running"] >= 1)

        await wait_for(moved, within=90, what=f"{moved_before_kill} DIG(s) moved")
        process.kill()  # SIGKILL with children in flight
        process = workers.start()
    report = await handle.result()
    assert report["counts"]["moved"] == 6
    for dig in digs:  # one update per DIG: the first instantiation, then the move
        actions = emco_get(dig.setup, f"{dig.setup.dig_path}/status")["states"]["actions"]
        assert len({a["revision"] for a in actions if a["state"] == "Instantiated"}) == 2
        assert placed_on(dig) == [("provider2", "cluster2")]


async def test_a_window_that_closes_mid_run_leaves_the_rest_not_started(
    temporal_client: Client, worker: Worker, emulator_reset: Emulator, evacuations: list[Evacuation]
) -> None:
    digs = seed_project(emulator_reset.url, [("provider1", "cluster1")] * 4)
    emulator_reset.set_cluster("provider2", "cluster2", ready_delay_seconds=3.0)
    window_end = datetime.now(UTC) + timedelta(seconds=4)
    handle = await evacuate(
        temporal_client,
        worker,
        evacuations,
        [digs[0].setup.project],
        emco_url=emulator_reset.url,
        max_in_flight=1,
        target=ClusterRef("provider2", "cluster2"),
        window_end=window_end.isoformat(),
    )
    report = await handle.result()
    outcomes = [(d["outcome"], d["reason"]) for d in report["digs"]]
    assert outcomes[0] == ("moved", "")  # started inside the window, allowed to finish
    assert ("not started", "not started: window closed") in outcomes
    assert all(o[0] in ("moved", "not started") for o in outcomes)
    for dig, (outcome, _) in zip(digs, outcomes, strict=True):
        expected = ("provider2", "cluster2") if outcome == "moved" else ("provider1", "cluster1")
        assert placed_on(dig) == [expected]


async def test_an_evacuation_under_ten_percent_503s_moves_every_dig_once(
    temporal_client: Client, worker: Worker, emulator_reset: Emulator, evacuations: list[Evacuation]
) -> None:
    """EMCO behind a mesh: one request in ten, on every endpoint (discovery's walk, the
    moves, the status polls), is answered 503."""
    digs = seed_project(emulator_reset.url, [("provider1", "cluster1")] * 12)
    emulator_reset.clear_requests()
    emulator_reset.add_fault("^/v2/", 503, rate=0.1, seed=12)
    handle = await evacuate(
        temporal_client,
        worker,
        evacuations,
        [digs[0].setup.project],
        emco_url=emulator_reset.url,
        max_in_flight=4,
        failure_budget="0",
        target=ClusterRef("provider3", "cluster3"),
        write_settle_seconds=2,  # a 503 answers at once: no late write can follow it
    )
    report = await handle.result()
    hits = sum(f.hits for f in emulator_reset.faults())
    emulator_reset.clear_faults()
    assert hits >= 10, "the fault should have answered some requests"
    assert {d["outcome"] for d in report["digs"]} == {"moved"}, report["message"]
    assert len(report["digs"]) == 12
    updates = Counter(
        e["path"].removesuffix("/update")
        for e in emulator_reset.requests("POST", r".*/update$")
        if e["status"] is not None and e["status"] < 300
    )
    assert updates == Counter({d.seeded.dig_path: 1 for d in digs})
    for dig in digs:
        assert placed_on(dig) == [("provider3", "cluster3")]


async def test_two_evacuations_over_the_same_digs_never_both_claim_one(
    temporal_client: Client, worker: Worker, emulator_reset: Emulator, evacuations: list[Evacuation]
) -> None:
    """Two operators evacuate cluster1 at once, one to cluster2 and one to cluster3: each DIG
    is moved by at most one of them, and what each reports is what EMCO holds."""
    digs = seed_project(emulator_reset.url, [("provider1", "cluster1")] * 6)
    scope = [digs[0].setup.project]
    common: dict[str, Any] = {"emco_url": emulator_reset.url, "max_in_flight": 3}
    common["failure_budget"] = "100%"
    common["write_settle_seconds"] = 1
    to2 = await evacuate(
        temporal_client, worker, evacuations, scope, target=ClusterRef("provider2", "cluster2"),
        **common,
    )  # fmt: skip
    to3 = await evacuate(
        temporal_client, worker, evacuations, scope, target=ClusterRef("provider3", "cluster3"),
        **common,
    )  # fmt: skip
    reports = [by_key(await to2.result()), by_key(await to3.result())]
    for dig in digs:
        claims = [r[dig.key] for r in reports if dig.key in r and r[dig.key]["outcome"] == "moved"]
        where = placed_on(dig)
        assert len(claims) <= 1, (dig.key, where, [(c["target"], c["workflowID"]) for c in claims])
        if claims:
            provider, _, cluster = claims[0]["target"].partition("+")
            assert where == [(provider, cluster)], (dig.key, claims, where)
        else:  # neither moved it: it is where it was
            assert where == [("provider1", "cluster1")], (dig.key, reports)
        for report in reports:
            if dig.key in report and report[dig.key]["outcome"] != "moved":
                assert report[dig.key]["reason"], report[dig.key]

    # The one that did not move a DIG either met the other on it (refused by name) or came
    # after it (nothing left on the source): never a failure that wrote something.
    for report in reports:
        for entry in report.values():
            if entry["outcome"] == "failed":
                assert "is already being migrated by run" in entry["reason"], entry
            elif entry["outcome"] != "moved":
                assert entry["outcome"] == "unchanged", entry
                assert entry["reason"].endswith("nothing to migrate"), entry


async def test_an_evacuation_that_finds_its_dig_moved_since_discovery_reports_it_unchanged(
    temporal_client: Client, worker: Worker, emulator_reset: Emulator, evacuations: list[Evacuation]
) -> None:
    """One evacuation discovers and is paused; another moves the DIGs meanwhile. Resumed,
    the first reports each DIG "unchanged" (nothing of it left on the source) and writes
    nothing, instead of claiming a move it did not make."""
    digs = seed_project(emulator_reset.url, [("provider1", "cluster1")] * 3)
    scope = [digs[0].setup.project]
    late = await evacuate(
        temporal_client, worker, evacuations, scope, emco_url=emulator_reset.url,
        target=ClusterRef("provider3", "cluster3"),
    )  # fmt: skip
    await late.signal(SIGNAL_PAUSE)

    async def planned_and_held() -> bool:
        progress: dict[str, Any] = await late.query(QUERY_PROGRESS)
        return bool(progress["counts"]["pending"] == 3 and progress["phase"] == "running")

    await wait_for(planned_and_held, within=30, what="the paused evacuation to hold its plan")
    assert (await late.query(QUERY_PROGRESS))["counts"]["running"] == 0
    first = await evacuate(
        temporal_client, worker, evacuations, scope, emco_url=emulator_reset.url,
        target=ClusterRef("provider2", "cluster2"),
    )  # fmt: skip
    assert (await first.result())["counts"]["moved"] == 3
    emulator_reset.clear_requests()
    await late.signal(SIGNAL_RESUME)
    report = await late.result()
    assert report["counts"]["unchanged"] == 3
    for entry in report["digs"]:
        assert entry["outcome"] == "unchanged"
        assert entry["reason"] == "no selected app runs on provider1+cluster1: nothing to migrate"
    assert report["message"].startswith("0 moved, 3 unchanged, ")
    assert emulator_reset.requests() == []  # nothing written
    assert all(placed_on(d) == [("provider2", "cluster2")] for d in digs)
    assert exit_code(report) == 0
