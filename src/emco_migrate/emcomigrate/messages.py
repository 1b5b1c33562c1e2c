"""Inputs and results of the activities only this implementation has.

These travel through Temporal's default JSON converter (Go workers never see them); new
fields get defaults so payloads recorded by older versions keep decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emco_migrate.emcomigrate.types import ClusterRef, DigRef, MigrationParams


@dataclass(frozen=True)
class IntentRef:
    """An app intent as GetDigAppIntents found it."""

    placement_intent: str
    app_intent: str
    app: str


@dataclass(frozen=True)
class SnapshotRequest:
    """What to snapshot and plan: the request and the app intents found."""

    params: MigrationParams
    intents: tuple[IntentRef, ...]


@dataclass(frozen=True)
class PlanItem:
    """One app intent to move: its recorded original and the placements to write."""

    placement_intent: str
    app_intent: str
    app: str
    original: dict[str, Any]
    current_clusters: tuple[ClusterRef, ...]
    new_intent: dict[str, Any]
    interim_intent: dict[str, Any] | None = None


@dataclass(frozen=True)
class Snapshot:
    """The DIG before any write, and the plan."""

    revision: int
    context: str
    logical_cloud: str
    items: tuple[PlanItem, ...]
    noop: bool = False
    note: str = ""


@dataclass(frozen=True)
class IntentWrite:
    """An app intent body to PUT (name and placement intent from its ``metadata``)."""

    placement_intent: str
    app_intent: str
    body: dict[str, Any]


@dataclass(frozen=True)
class ApplyRequest:
    """App intents to create or replace."""

    dig: DigRef
    writes: tuple[IntentWrite, ...]


@dataclass(frozen=True)
class AppExpectation:
    """Where one app must be Ready, and where it must be gone."""

    app: str
    ready_on: tuple[ClusterRef, ...]
    absent_from: tuple[ClusterRef, ...] = ()


@dataclass(frozen=True)
class VerifyRequest:
    """Poll the DIG status until every expectation holds at ``revision`` or later."""

    dig: DigRef
    revision: int
    expectations: tuple[AppExpectation, ...]
    deadline_epoch: float
    purpose: str = "migration"
    timeout_seconds: int = 0


@dataclass(frozen=True)
class VerifyResult:
    """How verification went."""

    revision: int
    polls: int
    seconds: float


@dataclass(frozen=True)
class RollbackRequest:
    """Bring the DIG back to the context recorded in the snapshot."""

    dig: DigRef
    revision: int
    context: str
    reason: str = ""


@dataclass(frozen=True)
class RollbackResult:
    """What was done: ``rollback`` (POST /rollback), ``update`` (a forward /update of the
    restored intents) or ``none`` (the recorded context is still current)."""

    method: str
    revision: int
    note: str = ""
