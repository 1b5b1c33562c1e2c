"""workflowmgr bodies: Temporal workflow intents and cancel requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from emco_migrate.wire.emco import Metadata
from emco_migrate.wire.structs import go
from emco_migrate.wire.temporal import TemporalSpec


@dataclass(frozen=True)
class WorkflowClientSpec:
    """Where the workflow client's HTTP server listens."""

    GO_NAME: ClassVar[str] = "module.WfClientSpec"

    endpoint_name: str = field(default="", metadata=go("clientEndpointName"))
    endpoint_port: int = field(default=0, metadata=go("clientEndpointPort"))


@dataclass(frozen=True)
class WorkflowIntentSpec:
    """The client endpoint and the Temporal spec POSTed to it."""

    GO_NAME: ClassVar[str] = "module.WorkflowIntentSpec"

    client: WorkflowClientSpec = field(default=WorkflowClientSpec(), metadata=go("workflowClient"))
    temporal: TemporalSpec = field(default=TemporalSpec(), metadata=go("temporal"))


@dataclass(frozen=True)
class WorkflowIntent:
    """A temporal-workflow-intent of a DIG."""

    GO_NAME: ClassVar[str] = "module.WorkflowIntent"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata"))
    spec: WorkflowIntentSpec = field(default=WorkflowIntentSpec(), metadata=go("spec"))


@dataclass(frozen=True)
class CancelSpec:
    """What to cancel or terminate, and where."""

    GO_NAME: ClassVar[str] = "module.WfTemporalCancelRequestSpec"

    temporal_server: str = field(default="", metadata=go("temporalServer"))
    workflow_id: str = field(default="", metadata=go("workflowID", omitempty=True))
    run_id: str = field(default="", metadata=go("runID", omitempty=True))
    terminate: bool = field(default=False, metadata=go("terminate", omitempty=True))
    reason: str = field(default="", metadata=go("reason", omitempty=True))
    details: list[Any] | None = field(default=None, metadata=go("details", omitempty=True))


@dataclass(frozen=True)
class CancelRequest:
    """Body of ``W/{name}/cancel``."""

    GO_NAME: ClassVar[str] = "module.WfTemporalCancelRequest"

    metadata: Metadata = field(default=Metadata(), metadata=go("metadata", omitempty=True))
    spec: CancelSpec = field(default=CancelSpec(), metadata=go("spec"))
