"""CLM bodies: cluster providers, clusters and their labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from emco_migrate.wire.emco import Metadata
from emco_migrate.wire.structs import go


@dataclass(frozen=True)
class ClusterProvider:
    """A cluster provider."""

    GO_NAME: ClassVar[str] = "cluster.ClusterProvider"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata"))


@dataclass(frozen=True)
class Cluster:
    """A cluster; ``spec`` only carries GitOps properties (then no kubeconfig is needed)."""

    GO_NAME: ClassVar[str] = "cluster.Cluster"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata"))
    spec: dict[str, Any] | None = field(default=None, metadata=go("spec", omitempty=True))


@dataclass(frozen=True)
class ClusterLabel:
    """A label on a cluster."""

    GO_NAME: ClassVar[str] = "cluster.ClusterLabel"

    label: str = field(default="", metadata=go("clusterLabel"))


@dataclass(frozen=True)
class ClusterWithLabels:
    """An entry of ``clusters?withLabels=true``."""

    GO_NAME: ClassVar[str] = "cluster.ClusterWithLabels"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata"))
    labels: list[ClusterLabel] | None = field(default=None, metadata=go("labels"))
