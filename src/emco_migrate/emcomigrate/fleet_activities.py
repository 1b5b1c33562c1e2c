"""DiscoverFleet: walk EMCO for the DIGs an evacuation may move (read only).

Projects -> composite apps (every version) -> DIGs -> each DIG's state (status summary), its
logical cloud's clusters (dcm) and its app intents (every generic placement intent). An app
intent is "on the source" when its placement names the source cluster in ``allOf`` or
``anyOf`` (also inside an ``allOf`` entry's own ``anyOf``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import httpx
from temporalio import activity

from emco_migrate.emcomigrate.attempts import EmcoAccess, heartbeating
from emco_migrate.emcomigrate.emco_client import EmcoClient, Endpoint, path
from emco_migrate.emcomigrate.endpoints import EmcoUrlPolicy
from emco_migrate.emcomigrate.fleet import (
    DigEntry,
    DigRecord,
    Discovery,
    Entries,
    FleetScope,
    Records,
    Skipped,
    pack,
    unpack,
)
from emco_migrate.emcomigrate.names import ACTIVITY_CHECK_FAILBACK, ACTIVITY_DISCOVER_FLEET
from emco_migrate.emcomigrate.types import ClusterRef, DigRef
from emco_migrate.wire import emco as emco_types


@dataclass(frozen=True)
class DiscoverRequest:
    """Where EMCO is, which cluster is evacuated, and the scope."""

    emco_url: str
    dcm_url: str
    source: ClusterRef
    scope: FleetScope


@dataclass(frozen=True)
class FailbackCheck:
    """The DIGs a failback would move back, to compare with what EMCO holds now (`pack`ed in
    ``packed_entries``; ``entries`` is what checks scheduled before packing carry)."""

    emco_url: str
    entries: tuple[DigEntry, ...] = ()
    packed_entries: str = ""

    def all_entries(self) -> tuple[DigEntry, ...]:
        """The DIGs to check."""
        if self.packed_entries:
            return unpack(self.packed_entries, Entries)
        return self.entries


class FleetActivities:
    """Read-only EMCO walks for fleet operations."""

    def __init__(self, http: httpx.AsyncClient, emco_urls: EmcoUrlPolicy | None = None) -> None:
        self._access = EmcoAccess(http, emco_urls)

    @activity.defn(name=ACTIVITY_DISCOVER_FLEET)
    async def discover(self, request: DiscoverRequest) -> Discovery:
        """Every DIG in scope with its state, logical cloud clusters and app intents on the
        source, and how many app intents each cluster already holds."""
        emco = self._access.client(request.emco_url)
        dcm = self._access.client(request.dcm_url or request.emco_url)
        digs: list[DigRecord] = []
        placed: Counter[ClusterRef] = Counter()
        out_of_scope = 0
        clouds: dict[tuple[str, str], tuple[ClusterRef, ...]] = {}
        async with heartbeating({"digs": 0}) as beat:
            for project in await emco.get_list(
                "/v2/projects", emco_types.MetadataOnly, endpoint=Endpoint.PROJECTS
            ):
                name = project.metadata.name
                apps_path = "/v2" + path("projects", name, "composite-apps")
                for app in await emco.get_list(
                    apps_path, emco_types.CompositeApp, endpoint=Endpoint.COMPOSITE_APPS
                ):
                    version = app.spec.version
                    digs_path = "/v2" + path(
                        "projects", name, "composite-apps", app.metadata.name, version,
                        "deployment-intent-groups",
                    )  # fmt: skip
                    for dig in await emco.get_list(
                        digs_path, emco_types.DeploymentIntentGroup, endpoint=Endpoint.DIGS
                    ):
                        if not request.scope.covers(name, app.metadata.name, dig.metadata.name):
                            out_of_scope += 1
                            continue
                        ref = DigRef(
                            request.emco_url, name, app.metadata.name, version, dig.metadata.name
                        )
                        cloud = (name, dig.spec.logical_cloud)
                        if cloud not in clouds:
                            clouds[cloud] = await _cloud_clusters(dcm, *cloud)
                        record, held = await _record(emco, ref, clouds[cloud], request.source)
                        placed.update(held)
                        digs.append(record)
                        beat({"digs": len(digs)})
        placed_on = tuple(sorted(placed.items(), key=str))
        return Discovery((), placed_on, out_of_scope, packed_digs=pack(tuple(digs), Records))

    @activity.defn(name=ACTIVITY_CHECK_FAILBACK)
    async def check_failback(self, request: FailbackCheck) -> tuple[Skipped, ...]:
        """The DIGs whose moved app intents no longer place their app only where the
        evacuation put it (changed by someone since): a failback must not touch them."""
        emco = self._access.client(request.emco_url)
        changed: list[Skipped] = []
        async with heartbeating({"checked": 0}) as beat:
            for done, entry in enumerate(request.all_entries()):
                ref = DigRef(
                    request.emco_url, entry.project, entry.composite_app, entry.version, entry.dig
                )
                if (reason := await _changed(emco, ref, entry)) is not None:
                    changed.append(Skipped(entry.key, f"changed since evacuation: {reason}"))
                beat({"checked": done + 1})
        return tuple(changed)


async def _record(
    emco: EmcoClient, dig: DigRef, clusters: tuple[ClusterRef, ...], source: ClusterRef
) -> tuple[DigRecord, Counter[ClusterRef]]:
    state = (await emco.summary(dig)).state
    on_source: list[tuple[str, str, str]] = []
    placed: Counter[ClusterRef] = Counter()
    for gpi in await emco.placement_intents(dig):
        for intent in await emco.app_intents(dig, gpi):
            named = placement_clusters(intent.intent)
            placed.update(named)
            if source in named:
                on_source.append((gpi, intent.name, intent.app))
    record = DigRecord(
        dig.project, dig.composite_app, dig.version, dig.dig, str(state), clusters,
        tuple(on_source),
    )  # fmt: skip
    return record, placed


def placement_clusters(intent: emco_types.PlacementIntent) -> set[ClusterRef]:
    """The clusters a placement names (``allOf``, ``anyOf``, and ``anyOf`` inside ``allOf``);
    cluster labels name no single cluster and are left out."""
    entries: list[emco_types.ClusterSelector] = [*(intent.all_of or ()), *(intent.any_of or ())]
    for entry in intent.all_of or ():
        entries.extend(entry.any_of or ())
    return {ClusterRef(e.provider, e.cluster) for e in entries if e.provider and e.cluster}


async def _changed(emco: EmcoClient, dig: DigRef, entry: DigEntry) -> str | None:
    wanted = {entry.source} if entry.source else set()
    by_gpi: dict[str, dict[str, set[ClusterRef]]] = {}
    for gpi, name in entry.intents:
        if gpi not in by_gpi:
            intents = await emco.app_intents(dig, gpi)
            by_gpi[gpi] = {i.name: placement_clusters(i.intent) for i in intents}
        found = by_gpi[gpi].get(name)
        if found is None:
            return f"app intent {name} is gone"
        if found != wanted:
            where = ", ".join(sorted(map(str, found))) or "no cluster"
            return f"app intent {name} places on {where}"
    return None


async def _cloud_clusters(dcm: EmcoClient, project: str, cloud: str) -> tuple[ClusterRef, ...]:
    if not cloud:
        return ()
    refs = await dcm.get_list(
        "/v2" + path("projects", project, "logical-clouds", cloud, "cluster-references"),
        emco_types.ClusterReference,
        endpoint=Endpoint.CLUSTER_REFERENCES,
    )
    found = {ClusterRef(r.spec.provider, r.spec.cluster) for r in refs}
    return tuple(sorted((c for c in found if c.provider and c.cluster), key=str))
