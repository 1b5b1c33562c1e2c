"""What the verification's polls note about each app's readiness anywhere (interruption)."""

from __future__ import annotations

import random
import time
from typing import Any

import httpx
import pytest

from emco_migrate.emcomigrate.emco_client import EmcoClient
from emco_migrate.emcomigrate.messages import AppExpectation, VerifyRequest
from emco_migrate.emcomigrate.types import ClusterRef
from emco_migrate.emcomigrate.verification import JITTER, MAX_POLL_SECONDS, poll_waits, verify

from .test_activities import DIG, B, status

SOURCE = ClusterRef("provider1", "cluster1")
TARGET = ClusterRef("provider2", "cluster2")


def app_on(cluster: ClusterRef, ready: str) -> dict[str, Any]:
    resource = {"GVK": {"Kind": "Deployment"}, "name": "collectd", "deployedStatus": "Applied",
                "readyStatus": ready}  # fmt: skip
    return {"name": "collectd", "clusters": [
        {"clusterProvider": cluster.provider, "cluster": cluster.cluster,
         "connectivity": "Available", "resources": [resource]}]}  # fmt: skip


class MovingEmco:
    """A direct move (context ``a`` replaced by ``b``): the target is Ready from the third
    poll on; ``old_context`` answers the readiness of the replaced context (None: a 400;
    "deleted": the context is Updated, its app gone)."""

    def __init__(self, old_context: str | None) -> None:
        self.old_context = old_context
        self.polls = 0
        self.queries: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"{B}/status"
        query = dict(request.url.params)
        self.queries.append(query)
        log = status(("Instantiated", "a", 1), ("Updated", "a", 1), ("Instantiated", "b", 2))
        if query.get("instance") == "a":
            if query["status"] == "deployed":
                return httpx.Response(200, json={**log, "deployedStatus": "Updated"})
            if self.old_context is None:
                return httpx.Response(400, text="Filter app collectd not in list of apps\n")
            if self.old_context == "deleted":
                return httpx.Response(200, json={**log, "deployedStatus": "Updated", "apps": []})
            return httpx.Response(200, json={**log, "apps": [app_on(SOURCE, self.old_context)]})
        assert query == {"status": "ready", "app": "collectd"}
        self.polls += 1
        target = "Ready" if self.polls >= 3 else "NotReady"
        return httpx.Response(
            200,
            json={
                **log,
                "deployedStatus": "Instantiated",
                "readyStatus": target,
                "apps": [app_on(TARGET, target)],
            },
        )


async def run(emco: MovingEmco, unobserved_since: dict[str, float]) -> Any:
    request = VerifyRequest(
        DIG,
        2,
        (AppExpectation("collectd", (TARGET,), (SOURCE,)),),
        deadline_epoch=time.time() + 30,
        unobserved_since=unobserved_since,
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(emco)) as http:
        return await verify(EmcoClient(http, "http://emco"), request, heartbeat=lambda *_: None)


async def test_a_source_still_being_deleted_counts_as_ready() -> None:
    emco = MovingEmco(old_context="Ready")
    result = await run(emco, {"collectd": time.time()})
    (app,) = result.interruptions
    assert (app.app, app.seconds, app.observations, app.ready) == ("collectd", 0.0, 3, True)
    assert {"status": "ready", "app": "collectd", "instance": "a"} in emco.queries


async def test_ready_nowhere_counts_back_to_when_the_run_stopped_seeing_the_app() -> None:
    emco = MovingEmco(old_context="NotReady")
    moved_at = time.time() - 5.0  # the /update: 5 s before the first poll
    result = await run(emco, {"collectd": moved_at})
    (app,) = result.interruptions
    # Two polls found it Ready nowhere: from the /update to the second poll.
    assert app.observations == 3
    assert app.seconds >= 5.0
    assert app.seconds <= app.observed_until - moved_at
    assert app.bound_seconds >= 5.0  # the gap from the /update to the first poll


async def test_emco_refusing_the_old_contexts_readiness_does_not_fail_verification() -> None:
    emco = MovingEmco(old_context=None)
    result = await run(emco, {"collectd": time.time()})
    (app,) = result.interruptions
    assert (app.observations, app.ready) == (1, True)  # only the poll that found it Ready


async def test_the_poll_that_finds_the_move_done_reads_emco_twice() -> None:
    emco = MovingEmco(old_context="Ready")
    await run(emco, {})
    # Each poll reads the current context once; while the target is not Ready the replaced
    # context's readiness too (the interruption); the last poll confirms the old context.
    current = {"status": "ready", "app": "collectd"}
    replaced_ready = {"status": "ready", "app": "collectd", "instance": "a"}
    replaced_deployed = {"status": "deployed", "instance": "a"}
    assert emco.queries == [current, replaced_ready] * 2 + [current, replaced_deployed]


async def test_a_replaced_context_seen_deleted_is_not_read_again() -> None:
    emco = MovingEmco(old_context="deleted")
    result = await run(emco, {})
    current = {"status": "ready", "app": "collectd"}
    replaced_ready = {"status": "ready", "app": "collectd", "instance": "a"}
    # The first poll learns the old context is Updated: the next waiting poll reads once,
    # and so does the poll that finds the move done (no deletion check left to make).
    assert emco.queries == [current, replaced_ready, current, current]
    (app,) = result.interruptions
    assert (app.observations, app.ready) == (3, True)


def test_polls_back_off_on_a_fixed_ramp_then_wait_about_two_seconds_with_jitter() -> None:
    waits = poll_waits(random.Random(7))
    ramp = [next(waits) for _ in range(6)]
    assert ramp == pytest.approx([0.25, 0.375, 0.5625, 0.84375, 1.265625, 1.8984375])
    steady = [next(waits) for _ in range(400)]
    low, high = MAX_POLL_SECONDS * (1 - JITTER), MAX_POLL_SECONDS * (1 + JITTER)
    assert all(low <= w <= high for w in steady)
    # Spread over the band (two verifications started together drift apart), same mean pace.
    assert max(steady) - min(steady) > MAX_POLL_SECONDS * JITTER
    assert sum(steady) / len(steady) == pytest.approx(MAX_POLL_SECONDS, rel=0.05)
