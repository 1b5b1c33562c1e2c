"""Fixtures that run the migrate worker against a real Temporal dev server."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHandle
from temporalio.common import RawValue
from temporalio.worker import Worker

from emco_migrate.emcomigrate.names import WORKFLOW_NAME
from emco_migrate.worker.main import activity_methods, workflow_classes

VECTORS = Path(__file__).parents[1] / "fixtures" / "vectors"


def json_payload(data: bytes) -> RawValue:
    """Workflow input exactly as the Go client sends it (json/plain)."""
    return RawValue(Payload(metadata={"encoding": b"json/plain"}, data=data))


def new_task_queue() -> str:
    """A task queue of its own, so that tests never take each other's tasks on the
    session's shared dev server."""
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def task_queue() -> str:
    """The test's own task queue: its workers poll it and its starters start on it."""
    return new_task_queue()


@asynccontextmanager
async def running_worker(
    client: Client, http: httpx.AsyncClient, task_queue: str
) -> AsyncIterator[Worker]:
    """An in-process worker for EmcoMigrateWorkflow on ``task_queue`` whose activities use
    ``http``."""
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=workflow_classes(),
        activities=activity_methods(http),
    ) as worker:
        yield worker


class Starter:
    """Starts migrate workflows with unique IDs on ``task_queue`` and terminates leftovers
    at teardown."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue
        self.handles: list[WorkflowHandle[object, object]] = []

    async def start(
        self, input_json: bytes, *, workflow_id: str | None = None
    ) -> WorkflowHandle[object, object]:
        handle: WorkflowHandle[object, object] = await self.client.start_workflow(
            WORKFLOW_NAME,
            json_payload(input_json),
            id=workflow_id or f"test-{uuid.uuid4()}",
            task_queue=self.task_queue,
        )
        self.handles.append(handle)
        return handle

    async def cleanup(self) -> None:
        for handle in self.handles:
            with contextlib.suppress(Exception):
                await handle.terminate("test teardown")


@pytest.fixture
async def starter(temporal_client: Client, task_queue: str) -> AsyncIterator[Starter]:
    """Start migrate workflows on the test's task queue; any still running at the end are
    terminated."""
    s = Starter(temporal_client, task_queue)
    yield s
    await s.cleanup()


def vector_input(*, options: Mapping[str, object] | None = None, **params: str) -> bytes:
    """The Go sample's workflow input (vectors/workflow-input-04.json) with some
    ``activityParams["all-activities"]`` values replaced, and optionally other options."""
    data = json.loads((VECTORS / "workflow-input-04.json").read_bytes())
    data["activityParams"]["all-activities"].update(params)
    if options is not None:
        data["activityOptions"] = options
    return json.dumps(data, separators=(",", ":")).encode()
