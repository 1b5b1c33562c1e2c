"""What a workflow client is: the small protocol the registry and the HTTP server know
clients by, so a new client plugs in without either of them importing it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from temporalio.client import Client

from emco_migrate.wire.temporal import TemporalSpec


@dataclass(frozen=True)
class StartedWorkflow:
    """The execution a workflow client started."""

    workflow_id: str
    run_id: str


@runtime_checkable
class WorkflowClient(Protocol):
    """Starts one kind of workflow from EMCO's WfTemporalSpec.

    ``start`` returns once Temporal has accepted the start; it never waits for the
    workflow. It raises `InvalidSpec` for a spec it cannot start,
    `WorkflowAlreadyRunning` when the ID is taken, `TemporalUnreachable` when Temporal
    does not answer and `WorkflowStartRefused` for any other refusal (all in
    `emco_migrate.workflowclients.errors`).
    """

    async def start(self, client: Client, spec: TemporalSpec) -> StartedWorkflow: ...
