"""Decisions that keep EMCO writes exactly-once and our own (pure functions).

A write is repeated only when EMCO shows the earlier one did not happen; a compensation
overwrites only what this run left there. Anything else is another writer's change: the
step stops with `ChangedByOthers` naming what it found and what this run recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from temporalio.exceptions import ApplicationError

from emco_migrate.emcomigrate.dig_status import DigStatus
from emco_migrate.emcomigrate.error_types import ErrorType
from emco_migrate.wire.emco import ClusterSelector, DigState, PlacementIntent
from emco_migrate.wire.gojson import FieldError, sorted_deep
from emco_migrate.wire.structs import decode


def changed_by_others(message: str, **details: Any) -> ApplicationError:
    """The non-retryable error for a DIG someone else changed since this run wrote it."""
    return ApplicationError(
        message, details or None, type=ErrorType.CHANGED_BY_OTHERS, non_retryable=True
    )


def earlier_update(current: DigStatus, base: int, *, retry: bool, dig: str) -> int | None:
    """Whether ``/update`` from ``base`` must still be posted: None to post it, or the
    revision an earlier attempt's accepted ``/update`` produced.

    EMCO allocates revisions one by one, so on a retry a DIG at ``base + 1`` carries the
    update an earlier attempt posted (its worker may have died, or the request reached EMCO
    after the attempt gave up). Any other revision is another writer's.
    """
    if current.revision == base and current.state == DigState.INSTANTIATED:
        return None
    if retry and current.revision == base + 1 and current.state == DigState.INSTANTIATED:
        return current.revision
    raise changed_by_others(
        f"DIG {dig} is at revision {current.revision} ({current.state or 'no state'}), not "
        f"the revision {base} this run recorded: another writer changed it; not updating",
        found=current.revision,
        expected=base,
    )


def refuse_unless_left(current: DigStatus, left: Sequence[int], *, dig: str, action: str) -> None:
    """Raise `ChangedByOthers` unless the DIG is at one of the revisions this run ``left``;
    ``action`` says what is then not done ("not rolling back")."""
    if current.revision in left:
        return
    raise changed_by_others(
        f"DIG {dig} is at revision {current.revision}, not "
        f"{' or '.join(map(str, left))} as this run left it: another writer updated it; {action}",
        found=current.revision,
        expected=list(left),
    )


Placement = PlacementIntent | Mapping[str, Any] | None
"""A placement as EMCO holds it, or as a payload records it (its JSON object)."""


def as_placement(placement: object) -> PlacementIntent | None:
    """A placement as `PlacementIntent`: a recorded JSON object is decoded (unknown keys
    kept); None for no placement, or a value that is not one."""
    if isinstance(placement, PlacementIntent):
        return placement
    if not isinstance(placement, Mapping):
        return None
    try:
        return decode(PlacementIntent, dict(placement))
    except FieldError:
        return None


def cluster_name(entry: ClusterSelector) -> str:
    """``provider+cluster`` (``provider+label L``) of one placement entry, '' for none."""
    cluster = entry.cluster or (f"label {entry.label}" if entry.label else "")
    if not cluster:
        return ""
    return f"{entry.provider}+{cluster}" if entry.provider else cluster


def cluster_names(intent: Placement, key: str) -> list[str]:
    """The clusters a placement's ``allOf`` or ``anyOf`` names, in order."""
    placement = as_placement(intent)
    entries: Sequence[ClusterSelector] = ()
    if placement is not None:
        entries = (placement.all_of if key == "allOf" else placement.any_of) or ()
    return [n for n in map(cluster_name, entries) if n]


def placement_text(intent: Placement) -> str:
    """A placement for people: ``allOf provider1+cluster1, anyOf p2+c2`` (``none``)."""
    placement = as_placement(intent)
    if placement is None:
        return "no placement"
    parts = [
        f"{key} {', '.join(names)}"
        for key in ("allOf", "anyOf")
        if (names := cluster_names(placement, key))
    ]
    return "; ".join(parts) or "no clusters"


def same_placement(a: Placement, b: Placement) -> bool:
    """Equal placements, ignoring the order of clusters and empty lists."""
    return _normal(as_placement(a)) == _normal(as_placement(b))


def _normal(placement: PlacementIntent | None) -> tuple[Any, ...] | None:
    if placement is None:
        return None

    def entries(selectors: Sequence[ClusterSelector] | None) -> list[str]:
        return sorted(repr(sorted_deep(s.encode())) for s in selectors or ())

    return entries(placement.all_of), entries(placement.any_of), sorted_deep(placement.extensions)


def foreign_placement(name: str, found: Placement, allowed: Sequence[Placement]) -> str | None:
    """Why app intent ``name`` holding placement ``found`` is not this run's to overwrite
    (None when ``found`` is one of the ``allowed`` placements)."""
    if any(same_placement(found, p) for p in allowed):
        return None
    return (
        f"app intent {name} now places {placement_text(found)}, not "
        f"{' or '.join(dict.fromkeys(placement_text(p) for p in allowed))} as this run left it"
    )
