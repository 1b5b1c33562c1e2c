"""Deciding what to move and where: selection, placements and the no-op check (pure)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from emco_migrate.emcomigrate.dig_status import DigStatus
from emco_migrate.emcomigrate.guards import same_placement
from emco_migrate.emcomigrate.messages import IntentRef, PlanItem
from emco_migrate.emcomigrate.types import (
    AppIntent,
    ClusterRef,
    MigrationParams,
    ParamError,
    Strategy,
    single_cluster_intent,
)
from emco_migrate.wire.emco import AllOfItem, PlacementIntent


def select(
    intents: list[AppIntent], deployed: DigStatus, params: MigrationParams
) -> list[AppIntent]:
    """The app intents the request covers: all, or those of ``apps``, or those whose app
    now runs on the source cluster. Unknown app names are an error."""
    selected = intents
    if params.apps is not None:
        known = sorted({i.app for i in intents})
        unknown = [a for a in params.apps if a not in known]
        if unknown:
            raise ParamError(
                "apps",
                f"unknown app(s) {', '.join(unknown)}; "
                f"the DIG's app intents cover: {', '.join(known) or 'none'}",
            )
        selected = [i for i in selected if i.app in params.apps]
    if params.source is not None:
        selected = [i for i in selected if params.source in deployed.clusters_of(i.app)]
    return selected


def interim_intent(intent: PlacementIntent, target: ClusterRef) -> PlacementIntent:
    """Make-before-break's first placement: the current one plus the target in ``allOf``."""
    entry = AllOfItem(target.provider, target.cluster)
    all_of = intent.all_of or []
    return intent if entry in all_of else replace(intent, all_of=[*all_of, entry])


def plan_items(
    selected: list[AppIntent], deployed: DigStatus, params: MigrationParams
) -> tuple[PlanItem, ...]:
    """One plan item per selected app intent."""
    new = single_cluster_intent(params.target).encode()
    return tuple(
        PlanItem(
            placement_intent=i.placement_intent,
            app_intent=i.name,
            app=i.app,
            original=i.body.encode(),
            current_clusters=tuple(sorted(deployed.clusters_of(i.app), key=str)),
            new_intent=new,
            interim_intent=(
                interim_intent(i.intent, params.target).encode()
                if params.strategy is Strategy.MAKE_BEFORE_BREAK
                else None
            ),
        )
        for i in selected
    )


def placement(body: dict[str, Any]) -> dict[str, Any] | None:
    """A recorded app intent body's ``spec.intent`` as recorded (None when it has none):
    payloads carry placements as JSON objects."""
    spec = body.get("spec")
    intent = spec.get("intent") if isinstance(spec, dict) else None
    return intent if isinstance(intent, dict) else None


def is_noop(items: tuple[PlanItem, ...], target: ClusterRef) -> bool:
    """True when every selected app already runs only on the target and its app intent
    already places it only there (or nothing is selected).

    Both are read: after an interrupted run an intent may point elsewhere while the app
    still runs on the target, and a migration back must then rewrite it.
    """
    return all(
        item.current_clusters == (target,)
        and same_placement(placement(item.original), item.new_intent)
        for item in items
    )


def intent_refs(pairs: dict[str, tuple[Any, ...] | None] | None) -> tuple[IntentRef, ...]:
    """GetDigAppIntents' AppNameIntentPairs as a flat, ordered list."""
    return tuple(
        IntentRef(gpi, ref.intent, ref.app)
        for gpi, refs in (pairs or {}).items()
        for ref in refs or ()
    )
