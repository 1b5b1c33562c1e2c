"""Orchestrator bodies: composite apps, profiles, controllers, DIGs and their intents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from emco_migrate.emcosim.types.common import Metadata, SparseMetadata
from emco_migrate.wire.structs import go


@dataclass(frozen=True)
class CompositeAppSpec:
    """Composite app spec."""

    GO_NAME: ClassVar[str] = "module.CompositeAppSpec"

    version: str = field(default="", metadata=go("compositeAppVersion"))


@dataclass(frozen=True)
class CompositeApp:
    """A composite app version."""

    GO_NAME: ClassVar[str] = "module.CompositeApp"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata"))
    spec: CompositeAppSpec = field(default=CompositeAppSpec(), metadata=go("spec"))


@dataclass(frozen=True)
class AppProfileSpec:
    """Which app a profile belongs to."""

    GO_NAME: ClassVar[str] = "module.AppProfileSpec"

    app: str = field(default="", metadata=go("app"))


@dataclass(frozen=True)
class AppProfile:
    """An app profile (its tgz is stored beside it)."""

    GO_NAME: ClassVar[str] = "module.AppProfile"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata"))
    spec: AppProfileSpec = field(default=AppProfileSpec(), metadata=go("spec"))


@dataclass(frozen=True)
class ControllerSpec:
    """Where a controller listens."""

    GO_NAME: ClassVar[str] = "controller.ControllerSpec"

    host: str = field(default="", metadata=go("host"))
    port: int = field(default=0, metadata=go("port"))
    type: str = field(default="", metadata=go("type"))
    priority: int = field(default=0, metadata=go("priority"))


@dataclass(frozen=True)
class Controller:
    """A controller registered with the orchestrator (``rsync`` is required)."""

    GO_NAME: ClassVar[str] = "controller.Controller"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata"))
    spec: ControllerSpec = field(default=ControllerSpec(), metadata=go("spec"))


@dataclass(frozen=True)
class OverrideValues:
    """Helm value overrides for one app."""

    GO_NAME: ClassVar[str] = "module.OverrideValues"

    app: str = field(default="", metadata=go("app"))
    values: dict[str, str] | None = field(default=None, metadata=go("values"))


@dataclass(frozen=True)
class DigSpec:
    """Deployment intent group spec."""

    GO_NAME: ClassVar[str] = "module.DepSpecData"

    composite_profile: str = field(default="", metadata=go("compositeProfile"))
    version: str = field(default="", metadata=go("version"))
    logical_cloud: str = field(default="", metadata=go("logicalCloud"))
    override_values: list[OverrideValues] | None = field(
        default=None, metadata=go("overrideValues")
    )


@dataclass(frozen=True)
class DeploymentIntentGroup:
    """A deployment intent group (its state lives elsewhere)."""

    GO_NAME: ClassVar[str] = "module.DeploymentIntentGroup"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata"))
    spec: DigSpec = field(default=DigSpec(), metadata=go("spec"))


@dataclass(frozen=True)
class GroupIntentSpec:
    """Controller name -> intent name (``genericPlacementIntent`` is the one that matters)."""

    GO_NAME: ClassVar[str] = "module.IntentSpecData"

    intent: dict[str, str] | None = field(default=None, metadata=go("intent"))


@dataclass(frozen=True)
class GroupIntent:
    """An entry of ``/intents``."""

    GO_NAME: ClassVar[str] = "module.Intent"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata"))
    spec: GroupIntentSpec = field(default=GroupIntentSpec(), metadata=go("spec"))


@dataclass(frozen=True)
class ClusterSelector:
    """One placement candidate: a named cluster or a label of a provider."""

    GO_NAME: ClassVar[str] = "gpic.ClusterSpecific"

    provider: str = field(default="", metadata=go("clusterProvider", omitempty=True))
    cluster: str = field(default="", metadata=go("cluster", omitempty=True))
    label: str = field(default="", metadata=go("clusterLabel", omitempty=True))


@dataclass(frozen=True)
class AllOfItem:
    """A mandatory placement: a cluster, a label (all its clusters), or a nested anyOf."""

    GO_NAME: ClassVar[str] = "gpic.AllOf"

    provider: str = field(default="", metadata=go("clusterProvider", omitempty=True))
    cluster: str = field(default="", metadata=go("cluster", omitempty=True))
    label: str = field(default="", metadata=go("clusterLabel", omitempty=True))
    any_of: list[ClusterSelector] | None = field(default=None, metadata=go("anyOf", omitempty=True))


@dataclass(frozen=True)
class PlacementIntent:
    """allOf (every entry mandatory) and anyOf (one cluster of the group)."""

    GO_NAME: ClassVar[str] = "gpic.IntentStruc"

    all_of: list[AllOfItem] | None = field(default=None, metadata=go("allOf", omitempty=True))
    any_of: list[ClusterSelector] | None = field(default=None, metadata=go("anyOf", omitempty=True))


@dataclass(frozen=True)
class AppIntentSpec:
    """The app and its placement."""

    GO_NAME: ClassVar[str] = "module.SpecData"

    app: str = field(default="", metadata=go("app", omitempty=True))
    intent: PlacementIntent = field(default=PlacementIntent(), metadata=go("intent"))


@dataclass(frozen=True)
class AppIntent:
    """A generic placement intent for one app."""

    GO_NAME: ClassVar[str] = "module.AppIntent"

    metadata: SparseMetadata = field(default=SparseMetadata(), metadata=go("metadata"))
    spec: AppIntentSpec = field(default=AppIntentSpec(), metadata=go("spec"))


@dataclass(frozen=True)
class RollbackMetadata:
    """Rollback request metadata (description only)."""

    GO_NAME: ClassVar[str] = "module.RollbackMetadata"

    description: str = field(default="", metadata=go("description"))


@dataclass(frozen=True)
class RollbackSpec:
    """Which revision to go back to, as a string."""

    GO_NAME: ClassVar[str] = "module.RollbackSpec"

    revision: str = field(default="", metadata=go("revision"))


@dataclass(frozen=True)
class Rollback:
    """Body of ``B/rollback``."""

    GO_NAME: ClassVar[str] = "module.RollbackIntent"

    metadata: RollbackMetadata = field(default=RollbackMetadata(), metadata=go("metadata"))
    spec: RollbackSpec = field(default=RollbackSpec(), metadata=go("spec"))


@dataclass(frozen=True)
class MigrateSpec:
    """The DIG (of another version of the same composite app) to migrate to."""

    GO_NAME: ClassVar[str] = "module.MigrateSpec"

    target_version: str = field(default="", metadata=go("targetCompositeAppVersion"))
    target_dig: str = field(default="", metadata=go("targetDeploymentIntentGroup"))


@dataclass(frozen=True)
class Migrate:
    """Body of ``B/migrate``."""

    GO_NAME: ClassVar[str] = "module.MigrateIntent"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata"))
    spec: MigrateSpec = field(default=MigrateSpec(), metadata=go("spec"))


@dataclass(frozen=True)
class IntentList:
    """The ``GET /intents`` answer: a list of the intent maps, not of the objects."""

    GO_NAME: ClassVar[str] = "module.ListOfIntents"

    intents: list[dict[str, str]] | None = field(default=None, metadata=go("intent"))


@dataclass(frozen=True)
class AppIntentsByApp:
    """The ``app-intents/?app=`` answer: the spec of the app's intent."""

    GO_NAME: ClassVar[str] = "module.SpecData"

    app: str = field(default="", metadata=go("app", omitempty=True))
    intent: PlacementIntent = field(default=PlacementIntent(), metadata=go("intent"))
