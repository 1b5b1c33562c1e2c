"""What instantiation needs from CLM and DCM: label lookups and logical-cloud checks."""

from __future__ import annotations

from emco_migrate.emcosim import keys
from emco_migrate.emcosim.deploy.placement import ClusterName
from emco_migrate.emcosim.deploy.session import Session
from emco_migrate.emcosim.errors import ModuleError
from emco_migrate.emcosim.store.states import State
from emco_migrate.emcosim.types.clm import ClusterLabel
from emco_migrate.emcosim.types.dcm import LogicalCloud
from emco_migrate.wire.emco import ClusterReference, MetadataOnly


def clusters_with_label(session: Session, provider: str, label: str) -> list[str]:
    """CLM's `GetClustersWithLabel`: names of the provider's clusters carrying ``label``."""
    found = []
    for cluster in session.objects.children(keys.provider(provider), keys.CLUSTERS, MetadataOnly):
        ref = keys.cluster(provider, cluster.metadata.name)
        labels = session.objects.children(ref, keys.LABELS, ClusterLabel)
        if any(item.label == label for item in labels):
            found.append(cluster.metadata.name)
    return found


def cluster_exists(session: Session, name: ClusterName) -> bool:
    """Whether CLM knows the cluster."""
    return session.objects.exists(keys.cluster(name.provider, name.cluster))


def logical_cloud_members(session: Session, project: str, name: str) -> list[ClusterName]:
    """The clusters referenced by a logical cloud."""
    refs = session.objects.children(
        keys.logical_cloud(project, name), keys.CLUSTER_REFERENCES, ClusterReference
    )
    return [ClusterName(r.spec.provider, r.spec.cluster) for r in refs]


def require_instantiated(session: Session, project: str, name: str) -> list[ClusterName]:
    """The members of a logical cloud that a DIG may deploy to, or EMCO's refusal.

    Mirrors `validateLogicalCloud`: the cloud must exist and its last action must be an
    instantiation.
    """
    ref = keys.logical_cloud(project, name)
    if session.objects.get(ref, LogicalCloud) is None:
        raise ModuleError("LogicalCloud not found").wrap("Failed to obtain Logical Cloud specified")
    info = session.states.get(ref)
    if info is None or not info.last_context:
        raise ModuleError("The Logical Cloud has never been instantiated")
    if info.current != State.INSTANTIATED:
        raise ModuleError("The Logical Cloud is not currently instantiated (has been terminated).")
    return logical_cloud_members(session, project, name)
