"""workflowmgr bodies: Temporal workflow intents and cancel requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from emco_migrate.emcosim.gojson import GoDecodeError, go, register_codec
from emco_migrate.emcosim.gojson.decode import Codec
from emco_migrate.emcosim.types.common import Metadata
from emco_migrate.gowire import TemporalSpec, WireError


def _decode_temporal(text: str, path: str) -> TemporalSpec:
    try:
        return TemporalSpec.from_json(text)
    except WireError as err:
        where = f"{path}.{err.field}" if err.field else path
        raise GoDecodeError(f"json: cannot unmarshal {where}: {err.reason}") from None


register_codec(
    TemporalSpec,
    Codec(decode=_decode_temporal, encode=lambda spec: spec.encode(), zero=TemporalSpec),
)


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
