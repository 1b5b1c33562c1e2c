"""Structs shared by every EMCO service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from emco_migrate.wire.structs import go


@dataclass(frozen=True)
class Metadata:
    """EMCO's metadata object; every key is always emitted."""

    GO_NAME: ClassVar[str] = "types.Metadata"

    name: str = field(default="", metadata=go("name"))
    description: str = field(default="", metadata=go("description"))
    user_data1: str = field(default="", metadata=go("userData1"))
    user_data2: str = field(default="", metadata=go("userData2"))


@dataclass(frozen=True)
class SparseMetadata:
    """The metadata of app-intents, where every key is `omitempty`."""

    GO_NAME: ClassVar[str] = "module.MetaData"

    name: str = field(default="", metadata=go("name", omitempty=True))
    description: str = field(default="", metadata=go("description", omitempty=True))
    user_data1: str = field(default="", metadata=go("userData1", omitempty=True))
    user_data2: str = field(default="", metadata=go("userData2", omitempty=True))


@dataclass(frozen=True)
class MetadataOnly:
    """A resource that is nothing but its metadata (project, app, GPI, ...)."""

    GO_NAME: ClassVar[str] = "module.Resource"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata"))
