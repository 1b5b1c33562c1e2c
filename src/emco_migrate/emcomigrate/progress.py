"""What the `progress` query and the workflow result report, kept by the workflow."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emco_migrate.emcomigrate.messages import PlanItem, Snapshot
from emco_migrate.emcomigrate.types import MigrationParams


class AppStatus(enum.StrEnum):
    """Where one app intent is in the migration."""

    PENDING = "pending"
    UPDATING = "updating"
    VERIFYING = "verifying"
    DONE = "done"
    ROLLED_BACK = "rolled-back"
    FAILED = "failed"


class Phase(enum.StrEnum):
    """Where the whole migration is."""

    PLANNING = "planning"
    MIGRATING = "migrating"
    COMPENSATING = "compensating"
    COMPLETED = "completed"
    NO_OP = "no-op"
    DRY_RUN = "dry-run"
    ROLLED_BACK = "rolled-back"
    ROLLBACK_STOPPED = "rollback-stopped"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepOutcome(enum.StrEnum):
    """How one activity run ended (``running`` while it runs)."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class Step:
    """One activity run, with its timing."""

    name: str
    started: datetime
    finished: datetime | None = None
    outcome: StepOutcome = StepOutcome.RUNNING
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        seconds = (self.finished - self.started).total_seconds() if self.finished else None
        return {
            "name": self.name,
            "startedAt": self.started.isoformat(),
            "finishedAt": self.finished.isoformat() if self.finished else None,
            "seconds": None if seconds is None else round(seconds, 3),
            "outcome": self.outcome.value,
            **({"error": self.error} if self.error else {}),
        }


@dataclass
class Progress:
    """The migration as the workflow sees it; JSON keys are lowerCamel."""

    params: MigrationParams | None = None
    phase: Phase = Phase.PLANNING
    message: str = ""
    snapshot: Snapshot | None = None
    new_revision: int | None = None
    apps: dict[str, AppStatus] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    undone: list[str] = field(default_factory=list)
    interruption_seconds: float | None = None

    def planned(self, snapshot: Snapshot) -> None:
        """Record the snapshot and mark every planned app intent pending."""
        self.snapshot = snapshot
        self.apps = {_key(item): AppStatus.PENDING for item in snapshot.items}

    def mark(self, status: AppStatus) -> None:
        """Set every planned app intent's status."""
        for key in self.apps:
            self.apps[key] = status

    def to_json(self) -> dict[str, Any]:
        """The `progress` query's answer and the result's extra fields."""
        params = self.params
        snapshot = self.snapshot
        items = snapshot.items if snapshot else ()
        return {
            "phase": self.phase.value,
            "message": self.message,
            "strategy": params.strategy.value if params else None,
            "dryRun": params.dry_run if params else None,
            "target": str(params.target) if params else None,
            "dig": _dig_json(params) if params else None,
            "baseRevision": snapshot.revision if snapshot else None,
            "newRevision": self.new_revision,
            "apps": [
                {
                    "app": item.app,
                    "appIntent": item.app_intent,
                    "placementIntent": item.placement_intent,
                    "status": self.apps.get(_key(item), AppStatus.PENDING).value,
                    "from": [str(c) for c in item.current_clusters],
                    "to": [str(params.target)] if params else [],
                }
                for item in items
            ],
            "plan": [_plan_json(item) for item in items],
            "steps": [s.to_json() for s in self.steps],
            "undone": list(self.undone),
        }


def _dig_json(params: MigrationParams) -> dict[str, str]:
    """Where the DIG lives, in the activity parameters' own key names."""
    d = params.dig
    return {
        "emcoURL": d.emco_url,
        "project": d.project,
        "compositeApp": d.composite_app,
        "compositeAppVersion": d.version,
        "deploymentIntentGroup": d.dig,
    }


def _key(item: PlanItem) -> str:
    return f"{item.placement_intent}/{item.app_intent}"


def _plan_json(item: PlanItem) -> dict[str, Any]:
    spec = item.original.get("spec") or {}
    plan: dict[str, Any] = {
        "app": item.app,
        "appIntent": item.app_intent,
        "placementIntent": item.placement_intent,
        "currentPlacement": spec.get("intent") or {},
        "newPlacement": item.new_intent,
    }
    if item.interim_intent is not None:
        plan["interimPlacement"] = item.interim_intent
    return plan
