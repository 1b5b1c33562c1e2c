"""Inputs and results of the activities only this implementation has.

These travel through Temporal's default JSON converter (Go workers never see them); new
fields get defaults so payloads recorded by older versions keep decoding.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
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
    """An app intent body to PUT (name and placement intent from its ``metadata``).

    ``expect``: the placements (``spec.intent``) the intent may hold before the write,
    i.e. what this run left there; anything else is another writer's and is not
    overwritten. None writes without looking.
    """

    placement_intent: str
    app_intent: str
    body: dict[str, Any]
    expect: tuple[dict[str, Any], ...] | None = None


@dataclass(frozen=True)
class ApplyRequest:
    """App intents to create or replace; ``revisions``, when given, are the DIG revisions
    this run may have left (the write is refused at any other)."""

    dig: DigRef
    writes: tuple[IntentWrite, ...]
    revisions: tuple[int, ...] = ()


@dataclass(frozen=True)
class AppExpectation:
    """Where one app must be Ready, and where it must be gone."""

    app: str
    ready_on: tuple[ClusterRef, ...]
    absent_from: tuple[ClusterRef, ...] = ()


@dataclass(frozen=True)
class VerifyRequest:
    """Poll the DIG status until every expectation holds at ``revision`` or later.

    ``unobserved_since``: per app, since when (Unix seconds) it may have changed without
    this run seeing it (the start of the step that moved it, or the last poll of a
    verification that did not succeed); an app not listed counts from the first poll.
    """

    dig: DigRef
    revision: int
    expectations: tuple[AppExpectation, ...]
    deadline_epoch: float
    purpose: str = "migration"
    timeout_seconds: int = 0
    unobserved_since: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AppInterruption:
    """How long the polls found an app Ready on no cluster (see `interruption.py`).

    ``seconds``: each poll's answer counts back to the observation before it;
    ``bound_seconds``: the largest gap between two consecutive observations, within which
    the figure is of the truth for each interruption seen; ``ready``: what the last poll
    found; ``observed_until``: when that poll started (Unix seconds).
    """

    app: str
    seconds: float
    bound_seconds: float
    observations: int
    ready: bool
    observed_until: float


@dataclass(frozen=True)
class VerifyResult:
    """How verification went, and what its polls saw of each app's interruption."""

    revision: int
    polls: int
    seconds: float
    interruptions: tuple[AppInterruption, ...] = ()


@dataclass(frozen=True)
class RollbackRequest:
    """Bring the DIG back to the context recorded in the snapshot.

    ``left_revisions``: the revisions this run may have left the DIG at (empty: not
    checked); ``settle_seconds``: how long a retry waits before deciding (see
    `attempts.settle_before_deciding`).
    """

    dig: DigRef
    revision: int
    context: str
    reason: str = ""
    left_revisions: tuple[int, ...] = ()
    settle_seconds: float = 0.0


@dataclass(frozen=True)
class ConfirmRequest:
    """The compensation's last step: prove the app intents equal the snapshot again.

    ``restores`` carry the recorded originals as bodies and, as ``expect``, the placements
    this run wrote (a late write of ours is undone again; anything else is reported).
    """

    dig: DigRef
    restores: tuple[IntentWrite, ...]
    revision: int


@dataclass(frozen=True)
class ConfirmResult:
    """What the final check found: app intents it had to restore again (a write of ours
    that reached EMCO late) and the DIG's revision."""

    reapplied: tuple[str, ...]
    revision: int


class RollbackMethod(enum.StrEnum):
    """How `RollbackDig` brought the DIG back (the value is its EMCO endpoint's name)."""

    ROLLBACK = "rollback"  # POST /rollback to the recorded revision
    UPDATE = "update"  # a forward /update of the restored intents
    NONE = "none"  # nothing: the recorded context is still current


@dataclass(frozen=True)
class RollbackResult:
    """What `RollbackDig` did, and the DIG's revision after it."""

    method: RollbackMethod
    revision: int
    note: str = ""


@dataclass(frozen=True)
class LockHolder:
    """The run holding a DIG's lock ('' when unknown) and whether it still runs."""

    workflow_id: str
    running: bool
