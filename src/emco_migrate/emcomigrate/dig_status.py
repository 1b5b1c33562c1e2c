"""Reading EMCO's DIG status (``GET .../deployment-intent-groups/{dig}/status``) into typed
views, and the checks on them.

Pure functions only: the verification activity fetches, these decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emco_migrate.emcomigrate.types import ClusterRef
from emco_migrate.wire.emco import DigState


@dataclass(frozen=True)
class Action:
    """One entry of the DIG's action log (``states.actions``)."""

    state: str
    instance: str
    revision: int
    time: str = ""


@dataclass(frozen=True)
class Resource:
    """A resource of an app on a cluster, with whichever status keys the mode gave."""

    kind: str
    name: str
    deployed: str = ""
    ready: str = ""


@dataclass(frozen=True)
class AppOnCluster:
    """An app's resources on one cluster."""

    cluster: ClusterRef
    connectivity: str
    resources: tuple[Resource, ...] = ()


@dataclass(frozen=True)
class DigStatus:
    """The parts of a status answer the migration reads."""

    actions: tuple[Action, ...] = ()
    deployed_status: str = ""
    ready_status: str = ""
    apps: dict[str, tuple[AppOnCluster, ...]] = field(default_factory=dict)

    @property
    def state(self) -> str:
        """The DIG's state: the state of the last action ('' when the log is empty)."""
        return self.actions[-1].state if self.actions else ""

    @property
    def revision(self) -> int:
        """The revision of the last action (0 when the log is empty)."""
        return self.actions[-1].revision if self.actions else 0

    @property
    def instance(self) -> str:
        """The context id of the last action."""
        return self.actions[-1].instance if self.actions else ""

    def clusters_of(self, app: str) -> frozenset[ClusterRef]:
        """The clusters on which ``app`` has at least one resource."""
        return frozenset(c.cluster for c in self.apps.get(app, ()) if c.resources)

    def on(self, app: str, cluster: ClusterRef) -> AppOnCluster | None:
        """``app`` on ``cluster``, if the status lists it there."""
        for entry in self.apps.get(app, ()):
            if entry.cluster == cluster:
                return entry
        return None

    def ready_clusters(self, app: str) -> frozenset[ClusterRef]:
        """The clusters on which ``app`` has resources, all Ready, in a ``status=ready``
        answer, as the cluster monitor last reported them (connectivity not considered: a
        cluster EMCO cannot reach keeps its last report)."""
        return frozenset(
            c.cluster
            for c in self.apps.get(app, ())
            if c.resources and all(r.ready == "Ready" for r in c.resources)
        )

    def instantiated_revisions(self, revision: int) -> list[Action]:
        """The ``Instantiated`` actions carrying ``revision`` (several after re-instantiation)."""
        return [
            a for a in self.actions if a.state == DigState.INSTANTIATED and a.revision == revision
        ]

    def replaced_context(self, revision: int) -> str | None:
        """The context that the update to ``revision`` replaced: the ``Updated`` action
        written just before the last ``Instantiated`` action of that revision."""
        for index in range(len(self.actions) - 1, 0, -1):
            action = self.actions[index]
            if action.state == DigState.INSTANTIATED and action.revision == revision:
                before = self.actions[index - 1]
                return before.instance if before.state == DigState.UPDATED else None
        return None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> DigStatus:
        """Parse any status mode's answer; unknown or missing parts are left empty."""
        states = body.get("states") or {}
        actions = tuple(
            Action(
                state=str(a.get("state", "")),
                instance=str(a.get("instance", "")),
                revision=_int(a.get("revision")),
                time=str(a.get("time") or ""),
            )
            for a in (states.get("actions") or [])
            if isinstance(a, dict)
        )
        apps: dict[str, tuple[AppOnCluster, ...]] = {}
        for app in body.get("apps") or []:
            if not isinstance(app, dict) or not isinstance(app.get("name"), str):
                continue
            apps[app["name"]] = tuple(_cluster(c) for c in app.get("clusters") or [])
        return cls(
            actions=actions,
            deployed_status=str(body.get("deployedStatus") or body.get("status") or ""),
            ready_status=str(body.get("readyStatus") or ""),
            apps=apps,
        )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _cluster(entry: dict[str, Any]) -> AppOnCluster:
    resources = tuple(
        Resource(
            kind=str((r.get("GVK") or {}).get("Kind", "")),
            name=str(r.get("name", "")),
            deployed=str(r.get("deployedStatus") or r.get("rsyncStatus") or ""),
            ready=str(r.get("readyStatus") or r.get("clusterStatus") or ""),
        )
        for r in entry.get("resources") or []
        if isinstance(r, dict)
    )
    return AppOnCluster(
        cluster=ClusterRef(str(entry.get("clusterProvider", "")), str(entry.get("cluster", ""))),
        connectivity=str(entry.get("connectivity") or entry.get("readyStatus") or ""),
        resources=resources,
    )


def ready_problem(status: DigStatus, app: str, cluster: ClusterRef) -> str | None:
    """Why ``app`` is not yet Ready on ``cluster`` in a ``status=ready`` answer, or None
    when it is.

    Judged from that cluster's own entry (one answer covers every cluster of the app, so the
    top-level ``readyStatus`` speaks for all of them together): at least one resource (EMCO
    also calls a cluster Ready when the filter left no resource on it, a vacuous Ready),
    connectivity Available, and every resource Ready.
    """
    entry = status.on(app, cluster)
    if entry is None or not entry.resources:
        return f"{app} has no resources on {cluster} yet"
    if entry.connectivity != "Available":
        return f"{cluster} connectivity is {entry.connectivity or 'unknown'}"
    not_ready = [
        f"{r.kind}/{r.name}={r.ready or '?'}" for r in entry.resources if r.ready != "Ready"
    ]
    if not_ready:
        return f"{app} on {cluster} is not Ready ({', '.join(not_ready)})"
    return None


def failed_resources(status: DigStatus, apps: tuple[str, ...]) -> list[str]:
    """Resources of ``apps`` whose deployment failed, as ``app kind/name on cluster``."""
    return [
        f"{app} {r.kind}/{r.name} on {entry.cluster}"
        for app in apps
        for entry in status.apps.get(app, ())
        for r in entry.resources
        if r.deployed == "Failed"
    ]
