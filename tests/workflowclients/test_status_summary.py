"""`status`'s default output for a migration: a few lines a person reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import WorkflowExecutionStatus

from emco_migrate.emcomigrate.names import WORKFLOW_NAME
from emco_migrate.workflowclients.inspection.activity import ActivityState, PendingActivity
from emco_migrate.workflowclients.inspection.summary import summary_lines
from emco_migrate.workflowclients.inspection.types import WorkflowStatus

STARTED = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)


def progress(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "phase": "completed",
        "message": "migrated 1 app intent(s) to provider2+cluster2",
        "strategy": "direct",
        "dryRun": False,
        "dig": {
            "emcoURL": "http://emco:9015",
            "project": "proj1",
            "compositeApp": "capp1",
            "compositeAppVersion": "v1",
            "deploymentIntentGroup": "dig1",
        },
        "baseRevision": 1,
        "newRevision": 2,
        "apps": [
            {
                "app": "collectd",
                "from": ["provider1+cluster1"],
                "to": ["provider2+cluster2"],
                "status": "done",
            }
        ],
        "steps": [
            {"name": "GetDigAppIntents", "seconds": 0.012, "outcome": "ok"},
            {"name": "VerifyMigration", "seconds": 12.5, "outcome": "ok"},
        ],
    }
    return base | changes


def status(**changes: Any) -> WorkflowStatus:
    fields: dict[str, Any] = {
        "workflow_id": "mig-1",
        "run_id": "",
        "status": WorkflowExecutionStatus.COMPLETED,
        "workflow_type": WORKFLOW_NAME,
        "described_run_id": "0193-abc",
        "started_at": STARTED,
        "closed_at": STARTED + timedelta(seconds=14.2),
    }
    return WorkflowStatus(**(fields | changes))


def test_a_completed_migration() -> None:
    assert summary_lines(status(), progress()) == [
        "migration mig-1: completed (Temporal: COMPLETED)",
        "  migrated 1 app intent(s) to provider2+cluster2",
        "  DIG        proj1/capp1/v1/dig1 at http://emco:9015",
        "  strategy   direct",
        "  placement  collectd: provider1+cluster1 -> provider2+cluster2 (done)",
        "  revision   1 -> 2",
        "  run        0193-abc",
        "  started    2026-12-03T12:00:00+00:00",
        "  closed     2026-12-03T12:00:14+00:00 (14.2 s)",
        "  steps      GetDigAppIntents       0.012 s  ok",
        "             VerifyMigration         12.5 s  ok",
    ]


def test_a_running_migration_says_what_it_retries_and_waits_for() -> None:
    verifying = PendingActivity(
        "VerifyMigration",
        attempt=2,
        state=ActivityState.STARTED,
        last_error="EMCO answered 503",
        waiting_for=("collectd Ready on provider2+cluster2",),
    )
    running = status(
        status=WorkflowExecutionStatus.RUNNING, closed_at=None, activities=(verifying,)
    )
    answer = progress(
        phase="migrating",
        message="verifying",
        newRevision=None,
        steps=[{"name": "VerifyMigration", "seconds": None, "outcome": "running"}],
    )
    lines = summary_lines(running, answer)
    assert lines[0] == "migration mig-1: migrating (Temporal: RUNNING)"
    assert lines[1] == (
        "  verifying [VerifyMigration attempt 2: EMCO answered 503] "
        "[waiting for collectd Ready on provider2+cluster2]"
    )
    assert "  revision   1 -> -" in lines
    assert not any(line.lstrip().startswith("closed") for line in lines)
    assert lines[-1] == "  steps      VerifyMigration        running  running"


def test_without_a_worker_it_says_what_it_cannot_show() -> None:
    running = status(
        status=WorkflowExecutionStatus.RUNNING,
        closed_at=None,
        no_worker="no worker polls task queue q",
    )
    lines = summary_lines(running, None)
    assert lines[0] == "migration mig-1: running (Temporal: RUNNING)"
    assert "  details    not available: no worker polls task queue q" in lines
    assert lines[-1] == (
        "  warning    no worker polls task queue q: the workflow makes no progress until one does"
    )
