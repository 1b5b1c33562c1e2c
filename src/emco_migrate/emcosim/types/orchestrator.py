"""Orchestrator bodies only the emulator reads: composite apps, profiles, controllers, a DIG's
intents, rollback and migrate (the DIG and its app intents are in `wire.emco`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from emco_migrate.wire.emco import Metadata
from emco_migrate.wire.structs import go


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
