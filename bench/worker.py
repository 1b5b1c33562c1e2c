"""``python -m bench.worker``: the migrate worker plus the floor and polling workflows.

The very `serve` of `emco-migrate worker` with the floor's workflow and activities added,
so scenario 2 compares the migration and the floor on the same worker, task queue and slots,
and scenario 7's polling designs. ``BENCH_WORKER_METRICS_PORT`` turns on its Prometheus
endpoint (scenario 7 reads the slots in use from it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import httpx

from bench.floor import FloorActivities, FloorWorkflow, no_op
from bench.pollers import POLLING_WORKFLOWS, PollActivities
from emco_migrate.temporal_connection import TemporalSettings
from emco_migrate.worker.main import WorkerSettings, serve

METRICS_PORT_VARIABLE = "BENCH_WORKER_METRICS_PORT"


def bench_activities(http: httpx.AsyncClient) -> list[Callable[..., Any]]:
    """The floor's and the polling designs' activities, on the worker's shared HTTP client."""
    polls = PollActivities(http)
    return [
        no_op,
        FloorActivities(http).status_polls,
        polls.poll_heartbeating,
        polls.poll_once,
        polls.poll_or_retry,
    ]


if __name__ == "__main__":
    # The logging `emco-migrate` sets up, so both workers do the same work per task.
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = WorkerSettings(
        temporal=TemporalSettings.load(),
        metrics_port=int(os.environ.get(METRICS_PORT_VARIABLE, "0")),
    )
    asyncio.run(
        serve(
            settings,
            extra_workflows=[FloorWorkflow, *POLLING_WORKFLOWS],
            extra_activities=bench_activities,
            # the same treatment as ours: imported once, not per workflow run
            extra_passthrough=["bench"],
        )
    )
