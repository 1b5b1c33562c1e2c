"""Build a DIG's app context from its current intents, as `MakeAppContext` does.

Order of checks (and so of errors): the ``genericPlacementIntent`` entry of ``/intents``,
the composite app's apps, the logical cloud, then per app its profile, its placement
(resolved against CLM labels now) and the logical-cloud membership; finally the ``rsync``
controller that would receive the context.
"""

from __future__ import annotations

import logging

from emco_migrate.emcosim import keys
from emco_migrate.emcosim.deploy import clouds
from emco_migrate.emcosim.deploy.charts import ChartError, chart_resources
from emco_migrate.emcosim.deploy.placement import NO_CLUSTERS, choose_clusters, resolve
from emco_migrate.emcosim.deploy.session import Session
from emco_migrate.emcosim.errors import ModuleError
from emco_migrate.emcosim.keys import DigId
from emco_migrate.emcosim.store import Ref
from emco_migrate.emcosim.store.contexts import AppContext, Phase, Placement
from emco_migrate.emcosim.types.orchestrator import AppProfile, GroupIntent
from emco_migrate.wire.emco import AppIntent, DeploymentIntentGroup, MetadataOnly, PlacementIntent

log = logging.getLogger(__name__)

PLACEMENT_KEY = "genericPlacementIntent"


def placement_intent_name(session: Session, dig: DigId) -> str:
    """The GPI named by the ``genericPlacementIntent`` key of the DIG's ``/intents``."""
    for intent in session.objects.children(dig.ref, keys.GROUP_INTENTS, GroupIntent):
        name = (intent.spec.intent or {}).get(PLACEMENT_KEY)
        if name is not None:
            return name
    raise ModuleError("GenericPlacementIntent not found")


def app_intent_for(session: Session, gpi: Ref, app: str) -> PlacementIntent | None:
    """The placement of the first app-intent of ``app`` under the GPI."""
    for intent in session.objects.children(gpi, keys.APP_INTENTS, AppIntent):
        if intent.spec.app == app:
            return intent.spec.intent
    return None


def _has_profile(session: Session, dig: DigId, profile_name: str, app: str) -> None:
    profile_ref = dig.app_ref.child(keys.COMPOSITE_PROFILES, profile_name)
    if not session.objects.exists(profile_ref):
        raise ModuleError("CompositeProfile not found").wrap(
            f"AppProfileContent not found for:: {app}"
        )
    profiles = session.objects.children(profile_ref, keys.PROFILES, AppProfile)
    if not any(p.spec.app == app for p in profiles):
        raise ModuleError("AppProfile not found").wrap(f"AppProfileContent not found for:: {app}")


def build_context(session: Session, dig: DigId, group: DeploymentIntentGroup) -> AppContext:
    """A new context placing every app of the composite app, or EMCO's error."""
    gpi = dig.ref.child(keys.GPIS, placement_intent_name(session, dig))
    apps = session.objects.children_with_files(dig.app_ref, keys.APPS, MetadataOnly)
    members = clouds.require_instantiated(session, dig.project, group.spec.logical_cloud)
    placements: list[Placement] = []
    for app, chart in apps:
        name = app.metadata.name
        _has_profile(session, dig, group.spec.composite_profile, name)
        intent = app_intent_for(session, gpi, name)
        if intent is None:
            raise ModuleError(NO_CLUSTERS)
        wanted = resolve(intent, lambda p, label: clouds.clusters_with_label(session, p, label))
        try:
            resources = chart_resources(chart or b"", name)
        except ChartError as err:
            raise ModuleError(f"Error in template resolution for app {name}: {err}") from None
        for target in choose_clusters(wanted, members):
            placements.append(Placement(name, target.provider, target.cluster, resources))
    if not session.objects.exists(keys.controller("rsync")):
        raise ModuleError("Controller not found").wrap("Error calling rsync")
    context = AppContext(
        id=session.new_context_id(),
        owner=dig.ref.key,
        project=dig.project,
        composite_app=dig.composite_app,
        version=dig.version,
        dig=dig.name,
        apps=[app.metadata.name for app, _ in apps],
        placements=placements,
        phase=Phase.INSTANTIATE.value,
        phase_at=session.now,
    )
    log.info(
        "context %s for %s: %s",
        context.id,
        dig.ref.key,
        ", ".join(f"{p.app}@{p.provider}+{p.cluster}" for p in placements) or "nothing placed",
    )
    return context
