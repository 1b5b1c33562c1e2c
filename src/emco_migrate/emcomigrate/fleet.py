"""Evacuating a cluster (pure): which DIGs, to where, and when the next one may start.

The evacuation workflow decides with these functions; the discovery activity supplies what
EMCO holds. Everything here is deterministic, so a replay decides the same.

Target rule for ``auto``: among the clusters of the DIG's logical cloud, minus the source and
the excluded ones, the cluster with the fewest app intents placed on it, counting what EMCO
holds at discovery plus what this plan has already sent there (so a fleet spreads out); ties
go to the smaller ``provider+cluster`` name.
"""

from __future__ import annotations

import base64
import enum
import fnmatch
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from pydantic import TypeAdapter

from emco_migrate.emcomigrate.types import ClusterRef, ParamError

# Below Temporal's default limit of 2,000 pending child workflows per workflow.
MAX_IN_FLIGHT = 1000
# Reports (the progress query, the result) list every DIG up to this many; a larger fleet's
# report lists the DIGs not moved (up to this many) and carries the whole list packed.
REPORT_DIGS = 1000
T = TypeVar("T")
_BUDGET = re.compile(r"(\d{1,9})(%?)")


class DigOutcome(enum.StrEnum):
    """Where one DIG of an evacuation stands."""

    PENDING = "pending"
    RUNNING = "running"
    MOVED = "moved"
    # The child found nothing of the DIG left on the source (someone moved it since
    # discovery) or everything already on the target, and wrote nothing.
    UNCHANGED = "unchanged"
    ROLLED_BACK = "rolled back"
    FAILED = "failed"
    NOT_STARTED = "not started"


FINISHED = frozenset(
    {DigOutcome.MOVED, DigOutcome.UNCHANGED, DigOutcome.ROLLED_BACK, DigOutcome.FAILED}
)
FAILURES = frozenset({DigOutcome.ROLLED_BACK, DigOutcome.FAILED})


@dataclass(frozen=True)
class FleetScope:
    """Which DIGs an evacuation may consider (empty = all); DIG names are globs."""

    projects: tuple[str, ...] = ()
    composite_apps: tuple[str, ...] = ()
    digs: tuple[str, ...] = ()

    def covers(self, project: str, composite_app: str, dig: str) -> bool:
        """Whether a DIG is inside the scope."""
        return (
            (not self.projects or project in self.projects)
            and (not self.composite_apps or composite_app in self.composite_apps)
            and (not self.digs or any(fnmatch.fnmatchcase(dig, g) for g in self.digs))
        )


@dataclass(frozen=True)
class FailureBudget:
    """How many children may end rolled back or failed before no new one starts: a count,
    or a percentage of the DIGs selected."""

    count: int = 0
    percent: bool = False

    @classmethod
    def parse(cls, text: str) -> FailureBudget:
        """``"3"`` or ``"10%"``; raises `ParamError`."""
        match = _BUDGET.fullmatch(text.strip())
        if match is None or (match.group(2) and int(match.group(1)) > 100):
            raise ParamError("failureBudget", f"{text!r} is not a count (3) or a percentage (10%)")
        return cls(int(match.group(1)), bool(match.group(2)))

    def allowed(self, selected: int) -> int:
        """Failures tolerated among ``selected`` DIGs."""
        return math.floor(selected * self.count / 100) if self.percent else self.count

    def __str__(self) -> str:
        return f"{self.count}%" if self.percent else str(self.count)


@dataclass(frozen=True)
class DigRecord:
    """A DIG as discovery saw it."""

    project: str
    composite_app: str
    version: str
    dig: str
    state: str = ""  # the DIG's state (Instantiated, ...)
    logical_cloud_clusters: tuple[ClusterRef, ...] = ()
    # Per app intent placed on the source: (placement intent, app intent, app).
    on_source: tuple[tuple[str, str, str], ...] = ()

    @property
    def key(self) -> str:
        """The DIG's path, unique in EMCO."""
        return f"{self.project}/{self.composite_app}/{self.version}/{self.dig}"


Records = tuple[DigRecord, ...]


@dataclass(frozen=True)
class Discovery:
    """What discovery found: every DIG in scope, and app intents per cluster fleet-wide.

    The DIGs travel `pack`ed in ``packed_digs`` (a 10,000-DIG fleet is ~3 MB of JSON, over
    Temporal's payload limit); ``digs`` is what discoveries recorded before packing carry.
    """

    digs: tuple[DigRecord, ...] = ()
    placed: tuple[tuple[ClusterRef, int], ...] = ()  # app intents already on each cluster
    out_of_scope: int = 0
    packed_digs: str = ""

    def records(self) -> tuple[DigRecord, ...]:
        """Every DIG discovery saw."""
        if self.packed_digs:
            return unpack(self.packed_digs, Records)
        return self.digs


@dataclass(frozen=True)
class DigEntry:
    """One DIG in an evacuation: its plan and how it went."""

    key: str
    project: str
    composite_app: str
    version: str
    dig: str
    apps: tuple[str, ...] = ()
    target: ClusterRef | None = None
    # The app intents it moves, as (placement intent, app intent), and the cluster it moves
    # them from (None: the evacuated cluster; on failback: where the evacuation put them).
    intents: tuple[tuple[str, str], ...] = ()
    source: ClusterRef | None = None
    outcome: DigOutcome = DigOutcome.PENDING
    reason: str = ""  # why it was skipped, not started, rolled back or failed
    child_id: str = ""
    started_at: float = 0.0  # workflow time, seconds since the epoch
    ended_at: float = 0.0


Entries = tuple[DigEntry, ...]


@dataclass(frozen=True)
class Skipped:
    """A DIG seen and not selected, with why."""

    key: str
    reason: str


@dataclass(frozen=True)
class FleetPlan:
    """The selected DIGs in the order they start, and the ones skipped."""

    entries: tuple[DigEntry, ...] = ()
    skipped: tuple[Skipped, ...] = field(default_factory=tuple)


def plan(
    discovery: Discovery,
    source: ClusterRef,
    target: ClusterRef | None,
    exclude: Sequence[ClusterRef] = (),
    priority: Sequence[str] = (),
) -> FleetPlan:
    """Select every Instantiated DIG with an app intent on ``source`` and give it a target:
    ``target``, or (None) the `auto` rule of this module's docstring. Stable order: the DIGs
    whose key matches the first of the ``priority`` globs, then the second's, ..., then the
    rest; by key within each group (targets are chosen in that order too)."""
    load = Counter(dict(discovery.placed))
    entries: list[DigEntry] = []
    skipped: list[Skipped] = []

    def rank(record: DigRecord) -> tuple[int, str]:
        matched = (i for i, g in enumerate(priority) if fnmatch.fnmatchcase(record.key, g))
        return next(matched, len(priority)), record.key

    for record in sorted(discovery.records(), key=rank):
        if record.state != "Instantiated":
            skipped.append(Skipped(record.key, f"not instantiated ({record.state or 'no state'})"))
            continue
        if not record.on_source:
            skipped.append(Skipped(record.key, f"nothing placed on {source}"))
            continue
        chosen = target or _auto_target(record, source, exclude, load)
        if chosen is None:
            skipped.append(Skipped(record.key, "no usable target in its logical cloud"))
            continue
        if chosen == source:
            skipped.append(Skipped(record.key, "the target is the source"))
            continue
        load[chosen] += len(record.on_source)
        apps = tuple(sorted({app for _, _, app in record.on_source}))
        entries.append(
            DigEntry(
                record.key,
                record.project,
                record.composite_app,
                record.version,
                record.dig,
                apps,
                chosen,
                tuple((gpi, intent) for gpi, intent, _ in record.on_source),
            )
        )
    return FleetPlan(tuple(entries), tuple(skipped))


def failback_entries(evacuated: Iterable[DigEntry], source: ClusterRef) -> tuple[DigEntry, ...]:
    """The failback of an evacuation of ``source``: every DIG it moved goes back, the same
    app intents from where the evacuation put them."""
    return tuple(
        DigEntry(
            e.key, e.project, e.composite_app, e.version, e.dig, e.apps, source, e.intents, e.target
        )
        for e in evacuated
        if e.outcome == DigOutcome.MOVED and e.target is not None
    )


def _auto_target(
    record: DigRecord, source: ClusterRef, exclude: Sequence[ClusterRef], load: Counter[ClusterRef]
) -> ClusterRef | None:
    usable = [c for c in record.logical_cloud_clusters if c != source and c not in exclude]
    if not usable:
        return None
    return min(usable, key=lambda c: (load[c], str(c)))


def counts(entries: Iterable[DigEntry]) -> dict[str, int]:
    """DIGs per outcome (every outcome listed)."""
    found = Counter(e.outcome for e in entries)
    return {o.value: found[o] for o in DigOutcome}


def report_succeeded(report: Mapping[str, Any]) -> bool:
    """Whether an evacuation's report says it did what was asked: a dry run, or every
    selected DIG moved or had nothing left to move (or none was selected)."""
    if report.get("phase") == "dry run":
        return True
    counts = report.get("counts") or {}
    done = counts.get(DigOutcome.MOVED.value, 0) + counts.get(DigOutcome.UNCHANGED.value, 0)
    return bool(done == sum(counts.values()))


def failures(entries: Iterable[DigEntry]) -> int:
    """Children that ended rolled back or failed."""
    return sum(1 for e in entries if e.outcome in FAILURES)


def close_pending(entries: Sequence[DigEntry], reason: str) -> tuple[DigEntry, ...]:
    """Every pending entry marked not started, with ``reason``."""
    return tuple(
        replace(e, outcome=DigOutcome.NOT_STARTED, reason=reason)
        if e.outcome == DigOutcome.PENDING
        else e
        for e in entries
    )


def eta_seconds(entries: Sequence[DigEntry], max_in_flight: int) -> float | None:
    """Seconds until the pending and running DIGs are done, at the mean duration so far and
    ``max_in_flight`` at a time (None before the first child ends)."""
    done = [e.ended_at - e.started_at for e in entries if e.outcome in FINISHED]
    if not done:
        return None
    left = sum(1 for e in entries if e.outcome in (DigOutcome.PENDING, DigOutcome.RUNNING))
    return math.ceil(left / max(1, max_in_flight)) * (sum(done) / len(done))


def pack(value: T, hint: type[T]) -> str:
    """``value`` (dataclasses, tuples, enums, as activities and workflows pass them) as short
    text: its JSON (the shape the SDK's converter gives it), compressed, base64. A 10,000-DIG
    plan with its outcomes is ~4.7 MB of JSON and packs to ~0.45 MB, inside one Temporal
    payload (2 MB). ``hint``: its type (`Entries`, `Records`, `FleetPlan`)."""
    data = _adapter(hint).dump_json(value)
    return base64.b64encode(zlib.compress(data, 6)).decode("ascii")


def unpack(text: str, hint: type[T]) -> T:
    """What `pack` packed, as ``hint``. Pydantic's validator, because the SDK's converter
    takes ~3 s for 10,000 entries, longer than a workflow task may run (2 s)."""
    value: T = _adapter(hint).validate_json(zlib.decompress(base64.b64decode(text)))
    return value


_ADAPTERS: dict[object, TypeAdapter[Any]] = {}


def _adapter(hint: Any) -> TypeAdapter[Any]:
    if hint not in _ADAPTERS:
        _ADAPTERS[hint] = TypeAdapter(hint)
    return _ADAPTERS[hint]
