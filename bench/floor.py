"""Scenario 2's floor: a bare workflow of the migration's shape with no logic of its own.

It runs three no-op activities (read, write, update) and then one activity that makes
``polls`` DIG status requests to the emulator back to back: the least any migration
workflow could cost Temporal, the worker and the emulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    import httpx

FLOOR_WORKFLOW = "BenchFloorWorkflow"
ACTIVITY_TIMEOUT = timedelta(seconds=60)


@dataclass(frozen=True)
class FloorRequest:
    """Where the DIG status is (full URL with the query) and how many times to ask."""

    status_url: str
    polls: int


@activity.defn(name="BenchNoOp")
async def no_op(step: str) -> str:
    """Does nothing; the cost is Temporal's scheduling of an activity."""
    return step


class FloorActivities:
    """The status-polling activity, on the worker's long-lived HTTP client."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    @activity.defn(name="BenchStatusPolls")
    async def status_polls(self, request: FloorRequest) -> int:
        """GET the DIG status ``polls`` times; fail on anything but 200."""
        for _ in range(request.polls):
            response = await self._http.get(request.status_url)
            response.raise_for_status()
            activity.heartbeat()
        return request.polls


@workflow.defn(name=FLOOR_WORKFLOW)
class FloorWorkflow:
    """Three no-op activities, then the status polls."""

    @workflow.run
    async def run(self, request: FloorRequest) -> int:
        for step in ("read", "write", "update"):
            await workflow.execute_activity(no_op, step, start_to_close_timeout=ACTIVITY_TIMEOUT)
        return await workflow.execute_activity_method(
            FloorActivities.status_polls, request, start_to_close_timeout=ACTIVITY_TIMEOUT
        )
