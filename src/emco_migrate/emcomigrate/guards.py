"""Decisions that keep EMCO writes exactly-once and our own (pure functions).

A write is repeated only when EMCO shows the earlier one did not happen; a compensation
overwrites only what this run left there. Anything else is another writer's change: the
step stops with `ChangedByOthers` naming what it found and what this run recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio.exceptions import ApplicationError

from emco_migrate.emcomigrate.dig_status import DigStatus
from emco_migrate.emcomigrate.error_types import ErrorType
from emco_migrate.wire.emco import DigState


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


def cluster_name(entry: Any) -> str:
    """``provider+cluster`` (``provider+label L``) of one placement entry, '' for none."""
    if not isinstance(entry, dict):
        return ""
    cluster = entry.get("cluster") or (
        f"label {entry['clusterLabel']}" if entry.get("clusterLabel") else ""
    )
    if not cluster:
        return ""
    provider = entry.get("clusterProvider", "")
    return f"{provider}+{cluster}" if provider else str(cluster)


def cluster_names(intent: Any, key: str) -> list[str]:
    """The clusters a placement's ``allOf`` or ``anyOf`` names, in order."""
    entries = intent.get(key) if isinstance(intent, dict) else None
    names = [cluster_name(e) for e in entries] if isinstance(entries, list) else []
    return [n for n in names if n]


def placement_text(intent: Any) -> str:
    """A placement for people: ``allOf provider1+cluster1, anyOf p2+c2`` (``none``)."""
    if not isinstance(intent, dict):
        return "no placement"
    parts = [
        f"{key} {', '.join(names)}"
        for key in ("allOf", "anyOf")
        if (names := cluster_names(intent, key))
    ]
    return "; ".join(parts) or "no clusters"


def same_placement(a: Any, b: Any) -> bool:
    """Equal placements, ignoring the order of clusters and empty lists."""
    return bool(_normal(a) == _normal(b))


def _normal(intent: Any) -> Any:
    if not isinstance(intent, dict):
        return intent
    out: dict[str, Any] = {}
    for key, value in intent.items():
        if isinstance(value, list):
            if not value:
                continue
            out[key] = sorted(
                (repr(sorted(v.items())) if isinstance(v, dict) else repr(v)) for v in value
            )
        else:
            out[key] = value
    return out


def foreign_placement(name: str, found: Any, allowed: Sequence[Any]) -> str | None:
    """Why app intent ``name`` holding placement ``found`` is not this run's to overwrite
    (None when ``found`` is one of the ``allowed`` placements)."""
    if any(same_placement(found, p) for p in allowed):
        return None
    return (
        f"app intent {name} now places {placement_text(found)}, not "
        f"{' or '.join(dict.fromkeys(placement_text(p) for p in allowed))} as this run left it"
    )
