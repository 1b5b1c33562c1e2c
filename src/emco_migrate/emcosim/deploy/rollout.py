"""What rsync and the cluster monitor would report, derived from timestamps (no background work).

With a cluster's readiness delay ``d``: rsync's apply of a resource completes ``d/2`` after
it was asked for, the monitor reports it Ready ``d`` after, and a deletion completes ``d/2``
after it was asked for. Times are on the cluster's effective clock, which stands still while
the cluster is unreachable. Resources an update keeps unchanged are handed over to the new
context with their timestamps (rsync skips them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from emco_migrate.emcosim.store.clusters import ClusterSettings, ClusterSettingsStore
from emco_migrate.emcosim.store.contexts import (
    NEVER,
    AppContext,
    ContextStore,
    Phase,
    Placement,
    ResourceRow,
)
from emco_migrate.wire.emco import DeployedStatus


class Deployed(StrEnum):
    """rsync's per-resource status."""

    PENDING = "Pending"
    APPLIED = "Applied"
    RETRYING = "Retrying"
    DELETED = "Deleted"


class Readiness(StrEnum):
    """The cluster monitor's per-resource status."""

    READY = "Ready"
    NOT_READY = "NotReady"
    NOT_PRESENT = "NotPresent"


class Connectivity(StrEnum):
    """How rsync sees a cluster."""

    AVAILABLE = "Available"
    RETRYING = "Retrying"
    UNKNOWN = "Unknown"


@dataclass(frozen=True)
class ResourceView:
    """A resource row as seen at one moment."""

    row: ResourceRow
    deployed: Deployed
    readiness: Readiness

    @property
    def deleting(self) -> bool:
        """Deletion was asked for and has not completed."""
        return self.row.deleted_at is not None and self.deployed != Deployed.DELETED


class Rollout:
    """Rollout operations and views at time ``now`` inside one transaction."""

    def __init__(
        self,
        contexts: ContextStore,
        clusters: ClusterSettingsStore,
        now: float,
        default_delay: float,
    ) -> None:
        self.contexts = contexts
        self.clusters = clusters
        self.now = now
        self.default_delay = default_delay
        self._settings: dict[tuple[str, str], ClusterSettings] = {}

    def settings(self, provider: str, cluster: str) -> ClusterSettings:
        """A cluster's settings (cached for this operation)."""
        key = (provider, cluster)
        if key not in self._settings:
            self._settings[key] = self.clusters.get(provider, cluster)
        return self._settings[key]

    def _clock(self, provider: str, cluster: str) -> float:
        return self.settings(provider, cluster).effective(self.now)

    # ----------------------------------------------------------------- changes

    def apply(self, context: AppContext, previous: str | None) -> None:
        """Roll ``context`` out; unchanged live resources of ``previous`` are handed over."""
        live = {r.identity: r for r in self._live(previous)} if previous else {}
        self.contexts.drop_resources(context.id, self.now)
        for placement in context.placements or []:
            for row in self._rows(context.id, placement):
                inherited = live.pop(row.identity, None)
                if inherited is not None:
                    if self.view(inherited).deployed == Deployed.APPLIED:
                        row = dataclasses.replace(
                            row, applied_at=inherited.applied_at, ready_at=inherited.ready_at
                        )
                    self.contexts.set_times(dataclasses.replace(inherited, superseded=True))
                self.contexts.add_resource(row)

    def _rows(self, context_id: str, placement: Placement) -> Iterable[ResourceRow]:
        start = self._clock(placement.provider, placement.cluster)
        delay = self.settings(placement.provider, placement.cluster).delay(self.default_delay)
        for spec in placement.resources or []:
            yield ResourceRow(
                context=context_id,
                app=placement.app,
                provider=placement.provider,
                cluster=placement.cluster,
                group=spec.group,
                version=spec.version,
                kind=spec.kind,
                name=spec.name,
                applied_at=start + delay / 2,
                ready_at=start + delay,
            )

    def _live(self, context_id: str) -> list[ResourceRow]:
        return [
            r
            for r in self.contexts.resources(context_id)
            if r.deleted_at is None and not r.superseded
        ]

    def delete(self, context_id: str) -> None:
        """Ask for the deletion of the context's live resources (those not handed over)."""
        for row in self._live(context_id):
            delay = self.settings(row.provider, row.cluster).delay(self.default_delay)
            deleted_at = self._clock(row.provider, row.cluster) + delay / 2
            self.contexts.set_times(dataclasses.replace(row, deleted_at=deleted_at))

    def stop(self, context_id: str) -> None:
        """Freeze the context: unfinished applies and deletions never complete."""
        for row in self.contexts.resources(context_id):
            now = self._clock(row.provider, row.cluster)
            changed = row
            if row.applied_at > now:
                changed = dataclasses.replace(changed, applied_at=NEVER, ready_at=NEVER)
            if row.deleted_at is not None and row.deleted_at > now:
                changed = dataclasses.replace(changed, deleted_at=NEVER)
            if changed != row:
                self.contexts.set_times(changed)

    # ----------------------------------------------------------------- views

    def view(self, row: ResourceRow) -> ResourceView:
        """The resource's rsync and readiness status now."""
        settings = self.settings(row.provider, row.cluster)
        now = settings.effective(self.now)
        if row.deleted_at is not None and now >= row.deleted_at:
            return ResourceView(row, Deployed.DELETED, Readiness.NOT_PRESENT)
        if now < row.applied_at:
            pending = Deployed.PENDING if settings.reachable else Deployed.RETRYING
            return ResourceView(row, pending, Readiness.NOT_PRESENT)
        ready = now >= row.ready_at and not settings.never_ready
        return ResourceView(
            row, Deployed.APPLIED, Readiness.READY if ready else Readiness.NOT_READY
        )

    def views(self, context_id: str) -> list[ResourceView]:
        """Every resource of a context, now."""
        return [self.view(r) for r in self.contexts.resources(context_id)]

    def connectivity(self, provider: str, cluster: str, known: bool) -> Connectivity:
        """rsync's view of a cluster: Unknown if CLM does not know it."""
        if not known:
            return Connectivity.UNKNOWN
        if self.settings(provider, cluster).reachable:
            return Connectivity.AVAILABLE
        return Connectivity.RETRYING

    def context_status(self, context: AppContext, views: list[ResourceView]) -> DeployedStatus:
        """The appcontext status implied by the context's phase and its resources."""
        phase = Phase(context.phase)
        if phase == Phase.INSTANTIATE:
            done = all(v.deployed in (Deployed.APPLIED, Deployed.DELETED) for v in views)
            return DeployedStatus.INSTANTIATED if done else DeployedStatus.INSTANTIATING
        deleting = [v for v in views if v.row.deleted_at is not None]
        done = all(v.deployed == Deployed.DELETED for v in deleting)
        if phase == Phase.UPDATED:
            return DeployedStatus.UPDATED if done else DeployedStatus.UPDATING
        return DeployedStatus.TERMINATED if done else DeployedStatus.TERMINATING
