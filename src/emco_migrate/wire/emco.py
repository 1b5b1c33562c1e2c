"""EMCO's REST vocabulary shared by the worker and the emulator: the bodies both speak
(metadata, generic placement intents, app intents and their placements, DIGs), the states a
DIG's action log records and the deployment status of its app context (``GET .../status``).

The bodies are Go structs (`wire.structs`) with EMCO's type names and encoding. Those the
worker writes back (an app intent, every part of it) keep what EMCO sent beyond the fields
declared here (`extensions`: a newer EMCO's field survives a rewrite); the emulator decodes
with ``keep_unknown=False`` and so drops such keys, as EMCO's handlers do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from emco_migrate.wire.structs import GoStruct, extensions, go


@dataclass(frozen=True)
class Metadata(GoStruct):
    """EMCO's metadata object; every key is always emitted."""

    GO_NAME: ClassVar[str] = "types.Metadata"

    name: str = field(default="", metadata=go("name"))
    description: str = field(default="", metadata=go("description"))
    user_data1: str = field(default="", metadata=go("userData1"))
    user_data2: str = field(default="", metadata=go("userData2"))


@dataclass(frozen=True)
class MetadataOnly(GoStruct):
    """A resource that is nothing but its metadata: a generic placement intent (and a
    project, an app, a composite profile, ...)."""

    GO_NAME: ClassVar[str] = "module.Resource"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata"))


@dataclass(frozen=True)
class SparseMetadata(GoStruct):
    """The metadata of app intents, where every key is `omitempty`."""

    GO_NAME: ClassVar[str] = "module.MetaData"

    name: str = field(default="", metadata=go("name", omitempty=True))
    description: str = field(default="", metadata=go("description", omitempty=True))
    user_data1: str = field(default="", metadata=go("userData1", omitempty=True))
    user_data2: str = field(default="", metadata=go("userData2", omitempty=True))
    extensions: dict[str, Any] = field(default_factory=dict, metadata=extensions())


@dataclass(frozen=True)
class ClusterSelector(GoStruct):
    """The one cluster reference of a placement: a named cluster of a provider, or every
    cluster of the provider carrying a label. An ``anyOf`` entry is exactly this; an
    ``allOf`` entry (`AllOfItem`) may nest an ``anyOf`` of them."""

    GO_NAME: ClassVar[str] = "gpic.ClusterSpecific"

    provider: str = field(default="", metadata=go("clusterProvider", omitempty=True))
    cluster: str = field(default="", metadata=go("cluster", omitempty=True))
    label: str = field(default="", metadata=go("clusterLabel", omitempty=True))
    extensions: dict[str, Any] = field(default_factory=dict, metadata=extensions())


@dataclass(frozen=True)
class AllOfItem(ClusterSelector):
    """A mandatory placement: a cluster, a label (all its clusters), or a nested anyOf."""

    GO_NAME: ClassVar[str] = "gpic.AllOf"

    any_of: list[ClusterSelector] | None = field(default=None, metadata=go("anyOf", omitempty=True))


@dataclass(frozen=True)
class PlacementIntent(GoStruct):
    """allOf (every entry mandatory) and anyOf (one cluster of the group)."""

    GO_NAME: ClassVar[str] = "gpic.IntentStruc"

    all_of: list[AllOfItem] | None = field(default=None, metadata=go("allOf", omitempty=True))
    any_of: list[ClusterSelector] | None = field(default=None, metadata=go("anyOf", omitempty=True))
    extensions: dict[str, Any] = field(default_factory=dict, metadata=extensions())


@dataclass(frozen=True)
class AppIntentSpec(GoStruct):
    """The app and its placement (also the ``app-intents/?app=`` answer)."""

    GO_NAME: ClassVar[str] = "module.SpecData"

    app: str = field(default="", metadata=go("app", omitempty=True))
    intent: PlacementIntent = field(default=PlacementIntent(), metadata=go("intent"))
    extensions: dict[str, Any] = field(default_factory=dict, metadata=extensions())


@dataclass(frozen=True)
class AppIntent(GoStruct):
    """A generic placement intent's placement of one app."""

    GO_NAME: ClassVar[str] = "module.AppIntent"

    metadata: SparseMetadata = field(default=SparseMetadata(), metadata=go("metadata"))
    spec: AppIntentSpec = field(default=AppIntentSpec(), metadata=go("spec"))
    extensions: dict[str, Any] = field(default_factory=dict, metadata=extensions())


@dataclass(frozen=True)
class OverrideValues(GoStruct):
    """Helm value overrides for one app."""

    GO_NAME: ClassVar[str] = "module.OverrideValues"

    app: str = field(default="", metadata=go("app"))
    values: dict[str, str] | None = field(default=None, metadata=go("values"))


@dataclass(frozen=True)
class DigSpec(GoStruct):
    """Deployment intent group spec."""

    GO_NAME: ClassVar[str] = "module.DepSpecData"

    composite_profile: str = field(default="", metadata=go("compositeProfile"))
    version: str = field(default="", metadata=go("version"))
    logical_cloud: str = field(default="", metadata=go("logicalCloud"))
    override_values: list[OverrideValues] | None = field(
        default=None, metadata=go("overrideValues")
    )


@dataclass(frozen=True)
class DeploymentIntentGroup(GoStruct):
    """A deployment intent group (its state lives elsewhere)."""

    GO_NAME: ClassVar[str] = "module.DeploymentIntentGroup"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata"))
    spec: DigSpec = field(default=DigSpec(), metadata=go("spec"))


@dataclass(frozen=True)
class CompositeAppSpec(GoStruct):
    """Composite app spec."""

    GO_NAME: ClassVar[str] = "module.CompositeAppSpec"

    version: str = field(default="", metadata=go("compositeAppVersion"))


@dataclass(frozen=True)
class CompositeApp(GoStruct):
    """A composite app version."""

    GO_NAME: ClassVar[str] = "module.CompositeApp"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata"))
    spec: CompositeAppSpec = field(default=CompositeAppSpec(), metadata=go("spec"))


@dataclass(frozen=True)
class ClusterReferenceSpec(GoStruct):
    """The cluster a logical cloud includes."""

    GO_NAME: ClassVar[str] = "module.ClusterSpec"

    provider: str = field(default="", metadata=go("clusterProvider"))
    cluster: str = field(default="", metadata=go("cluster"))
    load_balancer_ip: str = field(default="", metadata=go("loadBalancerIP"))


@dataclass(frozen=True)
class ClusterReference(GoStruct):
    """A cluster of a logical cloud."""

    GO_NAME: ClassVar[str] = "module.Cluster"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata"))
    spec: ClusterReferenceSpec = field(default=ClusterReferenceSpec(), metadata=go("spec"))


class DigState(StrEnum):
    """A DIG's (or logical cloud's) state: the last action of its log."""

    CREATED = "Created"
    APPROVED = "Approved"
    APPLIED = "Applied"
    INSTANTIATED = "Instantiated"
    TERMINATED = "Terminated"
    INSTANTIATE_STOPPED = "InstantiateStopped"
    TERMINATE_STOPPED = "TerminateStopped"
    UPDATED = "Updated"
    UNDEFINED = "Undefined"


class DeployedStatus(StrEnum):
    """The deployment status of a DIG's app context (``deployedStatus``)."""

    INSTANTIATING = "Instantiating"
    INSTANTIATED = "Instantiated"
    TERMINATING = "Terminating"
    TERMINATED = "Terminated"
    UPDATING = "Updating"
    UPDATED = "Updated"
