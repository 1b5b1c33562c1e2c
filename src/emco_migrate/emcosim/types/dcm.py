"""DCM bodies: logical clouds and their cluster references."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from emco_migrate.wire.emco import Metadata
from emco_migrate.wire.structs import go


@dataclass(frozen=True)
class LogicalCloudUser:
    """The user of a level-1 logical cloud."""

    GO_NAME: ClassVar[str] = "module.UserData"

    user_name: str = field(default="", metadata=go("userName"))
    type: str = field(default="", metadata=go("type"))


@dataclass(frozen=True)
class LogicalCloudSpec:
    """Namespace, level ("0" admin, "1" custom) and user of a logical cloud."""

    GO_NAME: ClassVar[str] = "module.Spec"

    namespace: str = field(default="", metadata=go("namespace"))
    level: str = field(default="", metadata=go("level"))
    user: LogicalCloudUser = field(default=LogicalCloudUser(), metadata=go("user"))
    labels: dict[str, str] | None = field(default=None, metadata=go("labels", omitempty=True))


@dataclass(frozen=True)
class LogicalCloud:
    """A logical cloud of a project."""

    GO_NAME: ClassVar[str] = "module.LogicalCloud"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata"))
    spec: LogicalCloudSpec = field(default=LogicalCloudSpec(), metadata=go("spec"))
