"""The DIG status report (``GET B/status``), shaped like EMCO's `StatusResult` (section 11).

Keys depend on the mode: ``type=rsync|cluster`` reports ``status``, ``rsyncStatus`` and
cluster *connectivity* under ``readyStatus``; ``status=deployed|ready`` reports
``deployedStatus``, ``deployedCounts`` and ``connectivity``. Readiness (``readyStatus``,
``clusterStatus``/``readyCounts``) only comes with ``type=cluster`` / ``status=ready``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from emco_migrate.emcosim.deploy import clouds
from emco_migrate.emcosim.deploy.lifecycle import context_status
from emco_migrate.emcosim.deploy.placement import ClusterName
from emco_migrate.emcosim.deploy.rollout import Deployed, Readiness, ResourceView
from emco_migrate.emcosim.deploy.session import Session
from emco_migrate.emcosim.deploy.status_query import ListMode, Output, StatusQuery
from emco_migrate.emcosim.errors import ModuleError
from emco_migrate.emcosim.keys import DigId
from emco_migrate.emcosim.store.contexts import AppContext
from emco_migrate.emcosim.store.states import State, StateInfo
from emco_migrate.wire.emco import DeploymentIntentGroup
from emco_migrate.wire.structs import encode

Json = dict[str, Any]


def status_report(session: Session, dig: DigId, query: StatusQuery) -> Json:
    """The status answer, or `ModuleError` (which the handler turns into a 400)."""
    group = session.objects.get(dig.ref, DeploymentIntentGroup)
    if group is None:
        raise ModuleError("DeploymentIntentGroup not found").wrap("DeploymentIntentGroup not found")
    info = session.states.get(dig.ref)
    if info is None:
        raise ModuleError(f"DeploymentIntentGroup state not found: {dig.name}")
    report: Json = {
        "project": dig.project,
        "compositeApp": dig.composite_app,
        "compositeAppVersion": dig.version,
    }
    if group.spec.composite_profile:
        report["compositeProfile"] = group.spec.composite_profile
    report["name"] = dig.name
    context = _selected_context(session, info, query.instance)
    if context is not None:
        for app in query.apps:
            if app not in (context.apps or []):
                raise ModuleError(
                    f"Filter app {app} not in list of apps for composite app {dig.composite_app}"
                )
    if query.list_mode == ListMode.APPS:
        report["apps"] = list(context.apps or []) if context else []
    elif query.list_mode == ListMode.CLUSTERS:
        report["clustersByApp"] = _clusters_by_app(context, query) if context else []
    elif query.list_mode == ListMode.RESOURCES:
        report["resourcesByApp"] = _resources_by_app(session, context, query) if context else []
    else:
        report["states"] = encode(info)
        if context is not None:
            report.update(_normal(session, context, query))
    return report


def _selected_context(session: Session, info: StateInfo, instance: str | None) -> AppContext | None:
    if instance is not None:
        context = session.contexts.get(instance) if instance in info.contexts() else None
        if context is None:
            raise ModuleError(f"No state information for {instance}")
        return context
    if info.current in (State.CREATED, State.APPROVED, State.UNDEFINED) or not info.last_context:
        return None
    return session.contexts.get(info.last_context)


def _matches(view: ResourceView, query: StatusQuery) -> bool:
    row = view.row
    if query.apps and row.app not in query.apps:
        return False
    if query.clusters and ClusterName(row.provider, row.cluster) not in query.clusters:
        return False
    return not query.resources or row.name in query.resources


def _normal(session: Session, context: AppContext, query: StatusQuery) -> Json:
    views = session.rollout.views(context.id)
    overall = context_status(session, context).value
    selected = [v for v in views if _matches(v, query)]
    deployed = Counter(v.deployed.value for v in selected)
    ready = Counter(v.readiness.value for v in selected)
    mode = query.mode
    out: Json = {"status" if mode.legacy else "deployedStatus": overall}
    if mode.with_readiness:
        not_ready = ready[Readiness.NOT_READY] + ready[Readiness.NOT_PRESENT]
        out["readyStatus"] = "Ready" if not_ready == 0 else "NotReady"
    if deployed:
        out["rsyncStatus" if mode.legacy else "deployedCounts"] = dict(deployed)
    if mode.with_readiness and ready:
        out["clusterStatus" if mode.legacy else "readyCounts"] = dict(ready)
    apps = _apps(session, context, selected, query)
    if apps and query.output != Output.SUMMARY:
        out["apps"] = apps
    return out


def _apps(
    session: Session, context: AppContext, views: list[ResourceView], query: StatusQuery
) -> list[Json]:
    apps = []
    for app in context.apps or []:
        clusters: dict[ClusterName, list[Json]] = {}
        for view in views:
            if view.row.app == app:
                name = ClusterName(view.row.provider, view.row.cluster)
                clusters.setdefault(name, []).append(_resource(view, query))
        if not clusters:
            continue
        connectivity_key = "readyStatus" if query.mode.legacy else "connectivity"
        entries = []
        for name, resources in clusters.items():
            known = clouds.cluster_exists(session, name)
            entries.append(
                {
                    "clusterProvider": name.provider,
                    "cluster": name.cluster,
                    connectivity_key: session.rollout.connectivity(*name, known=known).value,
                    "resources": resources,
                }
            )
        apps.append({"name": app, "clusters": entries})
    return apps


def _gvk(group: str, version: str, kind: str) -> Json:
    return {"Group": group, "Version": version, "Kind": kind}


def _resource(view: ResourceView, query: StatusQuery) -> Json:
    row = view.row
    out: Json = {"GVK": _gvk(row.group, row.version, row.kind), "name": row.name}
    mode = query.mode
    out["rsyncStatus" if mode.legacy else "deployedStatus"] = view.deployed.value
    if mode.with_readiness:
        out["clusterStatus" if mode.legacy else "readyStatus"] = view.readiness.value
    if query.output == Output.DETAIL:
        out["detail"] = _detail(view)
    return out


def _detail(view: ResourceView) -> Json:
    row = view.row
    api_version = f"{row.group}/{row.version}" if row.group else row.version
    detail: Json = {"apiVersion": api_version, "kind": row.kind, "metadata": {"name": row.name}}
    if view.deployed == Deployed.APPLIED and row.kind in ("Deployment", "StatefulSet"):
        ready = 1 if view.readiness == Readiness.READY else 0
        detail["status"] = {"replicas": 1, "readyReplicas": ready, "availableReplicas": ready}
    return detail


def _clusters_by_app(context: AppContext, query: StatusQuery) -> list[Json]:
    out = []
    for app in context.apps or []:
        if query.apps and app not in query.apps:
            continue
        seen = dict.fromkeys(
            ClusterName(p.provider, p.cluster) for p in context.placements or [] if p.app == app
        )
        clusters = [{"clusterProvider": c.provider, "cluster": c.cluster} for c in seen]
        out.append({"app": app, "clusters": clusters})
    return out


def _resources_by_app(session: Session, context: AppContext, query: StatusQuery) -> list[Json]:
    groups: dict[tuple[str, str, str], list[Json]] = {}
    for view in session.rollout.views(context.id):
        row = view.row
        if (query.apps and row.app not in query.apps) or (
            query.clusters and ClusterName(row.provider, row.cluster) not in query.clusters
        ):
            continue
        if query.mode.with_readiness and view.deployed != Deployed.APPLIED:
            continue  # the monitor only reports what is on the cluster
        key = (row.app, row.provider, row.cluster)
        groups.setdefault(key, []).append(
            {"name": row.name, "GVK": _gvk(row.group, row.version, row.kind)}
        )
    return [
        {"app": app, "clusterProvider": provider, "cluster": cluster, "resources": resources}
        for (app, provider, cluster), resources in groups.items()
    ]
