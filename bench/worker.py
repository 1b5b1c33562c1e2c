"""``python -m bench.worker``: the migrate worker plus the floor workflow, on one Worker.

The very `serve` of `emco-migrate worker` with the floor's workflow and activities added,
so scenario 2 compares the migration and the floor on the same worker, task queue and slots.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any

import httpx

from bench.floor import FloorActivities, FloorWorkflow, no_op
from emco_migrate.temporal_connection import TemporalSettings
from emco_migrate.worker.main import WorkerSettings, serve


def floor_activities(http: httpx.AsyncClient) -> list[Callable[..., Any]]:
    """The floor workflow's activities, on the worker's shared HTTP client."""
    return [no_op, FloorActivities(http).status_polls]


if __name__ == "__main__":
    # The logging `emco-migrate` sets up, so both workers do the same work per task.
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = WorkerSettings(temporal=TemporalSettings.load())
    asyncio.run(
        serve(
            settings,
            extra_workflows=[FloorWorkflow],
            extra_activities=floor_activities,
            # the same treatment as ours: imported once, not per workflow run
            extra_passthrough=["bench"],
        )
    )
