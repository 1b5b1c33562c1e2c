"""A worker that keeps no workflow in its cache evicts every run after each of its tasks, as
a busy worker does under cache pressure and every worker does at shutdown. Eviction cancels
the run's coroutines; the run must not take that for a cancel request (start its rollback,
release its DIG lock) and must leave no task behind in the worker's event loop. (The race
that once left one, an eviction while the lock's release signal was in flight, is too rare
to provoke here; this checks that runs evicted at every step still end right.)"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.worker import Worker

from emco_migrate.emcomigrate.emco_client import new_http_client
from emco_migrate.worker.main import activity_methods, workflow_classes
from support.emulator import Emulator, SampleSetup
from support.stack import Starter, vector_input

from .helpers import app_intent, placement, wait_for_state

pytestmark = pytest.mark.integration


def _leftover_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def test_evicted_after_every_task_a_migration_and_a_cancelled_one_end_right(
    temporal_client: Client,
    starter: Starter,
    task_queue: str,
    emulator_reset: Emulator,
    sample_setup: SampleSetup,
) -> None:
    before_tasks = _leftover_tasks()
    async with new_http_client() as http, Worker(
        temporal_client,
        task_queue=task_queue,
        workflows=workflow_classes(),
        activities=activity_methods(http),
        max_cached_workflows=0,
    ):  # fmt: skip
        handle = await starter.start(vector_input(options=None, **sample_setup.activity_params()))
        result = cast(dict[str, Any], await asyncio.wait_for(handle.result(), 60))
        assert result["phase"] == "completed"
        assert placement(emulator_reset, sample_setup) == {"provider2+cluster2": ["Ready"] * 2}

        before = app_intent(sample_setup)
        emulator_reset.set_cluster("provider1", "cluster1", never_ready=True)
        back = {
            **sample_setup.activity_params(),
            "targetClusterProvider": "provider1",
            "targetClusterName": "cluster1",
            "verifyTimeoutSeconds": "30",
        }
        second = await starter.start(vector_input(options=None, **back))
        await wait_for_state(second, "VerifyMigration")
        await second.cancel()
        with pytest.raises(WorkflowFailureError):
            await asyncio.wait_for(second.result(), 60)
        assert app_intent(sample_setup) == before
    assert _leftover_tasks() <= before_tasks
