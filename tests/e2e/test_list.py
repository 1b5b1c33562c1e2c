"""`emco-migrate list` against the real dev server: the runs' search attributes and memo
filter and describe them without replaying anything."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.worker import Worker

from support.emulator import Emulator
from support.fleet import seed_project
from support.stack import Starter
from support.waiting import wait_for

from .helpers import emco_migrate_list, listed, start_migration

pytestmark = pytest.mark.integration


async def test_list_filters_by_dig_cluster_and_outcome_newest_first(
    worker: Worker,
    starter: Starter,
    emulator_reset: Emulator,
    temporal_address: str,
    temporal_client: Client,
) -> None:
    digs = seed_project(
        emulator_reset.url,
        [("provider1", "cluster1"), ("provider1", "cluster1"), ("provider3", "cluster3")],
    )
    project = digs[0].setup.project
    # A seeded DIG's setup targets provider2/cluster2 unless told otherwise.

    emulator_reset.set_cluster("provider2", "cluster2", never_ready=True)
    rolled_back = await start_migration(
        starter, digs[1].setup, verifyTimeoutSeconds="1", writeSettleSeconds="0"
    )
    with pytest.raises(WorkflowFailureError):
        await rolled_back.result()
    emulator_reset.set_cluster("provider2", "cluster2", never_ready=False)
    completed = await start_migration(starter, digs[0].setup)
    result: Any = await completed.result()
    assert result["phase"] == "completed"
    to_cluster1 = replace(digs[2].setup, target=("provider1", "cluster1"))
    dry_run = await start_migration(starter, to_cluster1, dryRun="true")
    await dry_run.result()

    # Visibility is eventually consistent: wait until all three show their outcome.
    async def all_three_ended() -> bool:
        runs = await listed(temporal_address, "--project", project)
        return len(runs) == 3 and all(r["outcome"] != "running" for r in runs)

    await wait_for(all_three_ended, within=20, what="three ended runs listed")

    runs = await listed(temporal_address, "--project", project)
    # Newest first.
    assert [r["workflowId"] for r in runs] == [dry_run.id, completed.id, rolled_back.id]
    by_id = {r["workflowId"]: r for r in runs}
    assert by_id[completed.id] | {"seconds": None, "startedAt": None, "closedAt": None} == {
        "workflowId": completed.id,
        "runId": by_id[completed.id]["runId"],
        "kind": "migration",
        "status": "COMPLETED",
        "outcome": "completed",
        "dig": "dig-000",
        "project": project,
        "source": ["provider1+cluster1"],
        "target": "provider2+cluster2",
        "strategy": "direct",
        "evacuationId": None,
        "startedAt": None,
        "closedAt": None,
        "seconds": None,
        "message": "migrated 1 app intent(s) to provider2+cluster2",
    }
    assert by_id[completed.id]["seconds"] > 0
    assert by_id[rolled_back.id]["outcome"] == "rolled-back"
    assert by_id[rolled_back.id]["status"] == "FAILED"
    assert "undone" in by_id[rolled_back.id]["message"]
    assert by_id[dry_run.id]["outcome"] == "dry-run"
    assert by_id[dry_run.id]["source"] == ["provider3+cluster3"]

    async def ids(*args: str) -> list[str]:
        return [
            r["workflowId"] for r in await listed(temporal_address, "--project", project, *args)
        ]

    assert await ids("--dig", "dig-000") == [completed.id]
    assert await ids("--cluster", "provider3/cluster3") == [dry_run.id]
    assert await ids("--cluster", "provider2+cluster2") == [completed.id, rolled_back.id]
    assert await ids("--outcome", "rolled-back") == [rolled_back.id]
    assert await ids("--outcome", "completed", "--dig", "dig-001") == []
    assert await ids("--running") == []
    assert await ids("--since", "1h") == [dry_run.id, completed.id, rolled_back.id]
    assert await ids("--since", "2099-01-01T00:00:00Z") == []

    code, out, _ = await asyncio.to_thread(
        emco_migrate_list, temporal_address, "--project", project
    )
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == [
        "STARTED", "ID", "KIND", "DIG", "OUTCOME", "SOURCE", "TARGET", "DURATION"
    ]  # fmt: skip
    assert [row.split()[2] for row in rows] == [dry_run.id, completed.id, rolled_back.id]
    assert rows[1].split()[3:7] == [
        "migration", "dig-000", "completed", "provider1+cluster1"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--cluster", "cluster1"], "--cluster 'cluster1': expected PROVIDER/CLUSTER"),
        (["--outcome", "done"], "--outcome 'done': expected one of running, planning"),
        (["--since", "yesterday"], "--since 'yesterday': expected an ISO 8601 time"),
        (["--since", "2026-12-01T08:00:00"], "with an offset"),
        (["--limit", "0"], "--limit must be at least 1"),
    ],
)
def test_bad_filters_are_one_line_and_exit_2_before_connecting(
    args: list[str], expected: str
) -> None:
    # Nothing listens on this address: a bad flag is refused before any connection.
    code, out, err = emco_migrate_list("127.0.0.1:1", *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and expected in err
