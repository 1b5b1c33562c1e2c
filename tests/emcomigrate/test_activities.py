"""Activity behaviour that end-to-end runs cannot time: retries after EMCO accepted a call."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from emco_migrate.emcomigrate.activities import (
    KEY_BASE_REVISION,
    KEY_NEW_REVISION,
    MigrationActivities,
    decode_payload,
    encode_payload,
)
from emco_migrate.emcomigrate.error_types import ErrorType
from emco_migrate.emcomigrate.messages import RollbackRequest
from emco_migrate.emcomigrate.read_cache import FRESH_REVISION_SECONDS, RunReads
from emco_migrate.emcomigrate.reversible import ReversibleMigrationActivities
from emco_migrate.emcomigrate.types import DigRef
from emco_migrate.wire.temporal import MigParam

DIG = DigRef("http://emco", "proj1", "capp1", "v1", "dig1")
B = "/v2/projects/proj1/composite-apps/capp1/v1/deployment-intent-groups/dig1"
IN_PARAMS = {
    "emcoURL": "http://emco", "project": "proj1", "compositeApp": "capp1",
    "compositeAppVersion": "v1", "deploymentIntentGroup": "dig1",
    "targetClusterProvider": "provider2", "targetClusterName": "cluster2",
}  # fmt: skip


def status(*entries: tuple[str, str, int]) -> dict[str, Any]:
    return {
        "states": {
            "statusctxid": entries[-1][1],
            "actions": [{"state": s, "instance": i, "revision": r} for s, i, r in entries],
        }
    }


class Emco:
    """Answers status with a fixed action log and records every request."""

    def __init__(self, log: dict[str, Any]) -> None:
        self.log = log
        self.requests: list[tuple[str, str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, request.url.path, body))
        if request.url.path == f"{B}/status":
            return httpx.Response(200, json=self.log)
        if request.url.path == f"{B}/update":
            return httpx.Response(202, json=9)
        if request.url.path == f"{B}/rollback":
            return httpx.Response(202)
        return httpx.Response(404, text="404 page not found\n")

    def posts(self) -> list[str]:
        return [path.rsplit("/", 1)[1] for method, path, _ in self.requests if method == "POST"]


def env(attempt: int) -> ActivityEnvironment:
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(environment.info, attempt=attempt)
    return environment


async def do_dig_update(
    emco: Emco, attempt: int, base: int | None, reads: RunReads | None = None
) -> MigParam:
    async with httpx.AsyncClient(transport=httpx.MockTransport(emco)) as http:
        extensions = {} if base is None else {KEY_BASE_REVISION: base}
        value = encode_payload(MigParam(in_params=IN_PARAMS, extensions=extensions))
        activities = MigrationActivities(http, reads=reads)
        result = await env(attempt).run(activities.do_dig_update, value)
    return decode_payload(result)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def snapshot_saw(revision: int, clock: Clock) -> RunReads:
    """What this run's snapshot leaves for its next steps: the DIG seen at ``revision``."""
    reads = RunReads(clock)

    async def snapshot() -> None:
        reads.keep_revision(revision)

    await env(1).run(snapshot)
    return reads


async def test_first_attempt_trusts_the_revision_the_snapshot_read_moments_ago() -> None:
    emco = Emco(status(("Instantiated", "a", 1)))
    reads = await snapshot_saw(1, Clock())
    result = await do_dig_update(emco, attempt=1, base=1, reads=reads)
    assert [m for m, _, _ in emco.requests] == ["POST"]
    assert result.extensions[KEY_NEW_REVISION] == 9


async def test_the_snapshots_revision_is_not_trusted_late_on_a_retry_or_for_another_base() -> None:
    clock = Clock()
    reads = await snapshot_saw(1, clock)
    for attempt, base, seconds_later in ((1, 2, 0.0), (2, 1, 0.0), (1, 1, FRESH_REVISION_SECONDS)):
        clock.now = seconds_later + 0.1
        emco = Emco(status(*[("Instantiated", "a", r) for r in range(1, base + 1)]))
        await do_dig_update(emco, attempt=attempt, base=base, reads=reads)
        assert [m for m, _, _ in emco.requests] == ["GET", "POST"], (attempt, base, seconds_later)


async def test_retry_after_an_accepted_update_does_not_post_again() -> None:
    emco = Emco(status(("Instantiated", "a", 1), ("Updated", "a", 1), ("Instantiated", "b", 2)))
    result = await do_dig_update(emco, attempt=2, base=1)
    assert emco.posts() == []
    assert result.extensions[KEY_NEW_REVISION] == 2


async def test_retry_before_emco_accepted_posts_the_update() -> None:
    emco = Emco(status(("Instantiated", "a", 1)))
    result = await do_dig_update(emco, attempt=3, base=1)
    assert emco.posts() == ["update"]
    assert result.extensions[KEY_NEW_REVISION] == 9


async def test_first_attempt_reads_the_revision_then_posts_once() -> None:
    emco = Emco(status(("Instantiated", "a", 1)))
    await do_dig_update(emco, attempt=1, base=1)
    assert [m for m, _, _ in emco.requests] == ["GET", "POST"]


async def test_a_dig_another_writer_updated_is_not_updated_again() -> None:
    emco = Emco(status(("Instantiated", "a", 1), ("Updated", "a", 1), ("Instantiated", "b", 2)))
    with pytest.raises(ApplicationError) as caught:
        await do_dig_update(emco, attempt=1, base=1)
    assert caught.value.type == ErrorType.CHANGED_BY_OTHERS
    assert "revision 2" in caught.value.message and "another writer" in caught.value.message
    assert emco.posts() == []


async def test_a_retry_two_revisions_past_the_base_is_another_writer() -> None:
    emco = Emco(
        status(("Instantiated", "a", 1), ("Updated", "a", 1), ("Instantiated", "b", 2),
               ("Updated", "b", 2), ("Instantiated", "c", 3))
    )  # fmt: skip
    with pytest.raises(ApplicationError) as caught:
        await do_dig_update(emco, attempt=2, base=1)
    assert caught.value.type == ErrorType.CHANGED_BY_OTHERS
    assert emco.posts() == []


async def test_go_callers_without_a_base_revision_always_update() -> None:
    emco = Emco(status(("Instantiated", "b", 2)))
    await do_dig_update(emco, attempt=2, base=None)
    assert emco.posts() == ["update"]


async def rollback(emco: Emco, revision: int, context: str) -> tuple[str, int]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(emco)) as http:
        result = await env(1).run(
            ReversibleMigrationActivities(http).rollback,
            RollbackRequest(DIG, revision, context, "undo"),
        )
    return result.method, result.revision


async def test_rollback_not_needed_when_nothing_was_updated() -> None:
    emco = Emco(status(("Instantiated", "a", 1)))
    assert await rollback(emco, 1, "a") == ("none", 1)
    assert emco.posts() == []


async def test_rollback_posts_the_recorded_revision() -> None:
    emco = Emco(status(("Instantiated", "a", 1), ("Updated", "a", 1), ("Instantiated", "b", 2)))
    assert (await rollback(emco, 1, "a"))[0] == "rollback"
    assert [body for m, p, body in emco.requests if p.endswith("/rollback")] == [
        {"metadata": {"description": "undo"}, "spec": {"revision": "1"}}
    ]


async def test_repeated_rollback_is_a_no_op() -> None:
    emco = Emco(
        status(
            ("Instantiated", "a", 1),
            ("Updated", "a", 1),
            ("Instantiated", "b", 2),
            ("Updated", "b", 2),
            ("Instantiated", "a", 3),
        )
    )
    assert await rollback(emco, 1, "a") == ("rollback", 3)
    assert emco.posts() == []


async def test_ambiguous_revision_falls_back_to_a_forward_update() -> None:
    # After terminate + re-instantiate, revision 1 first names the old context "old".
    emco = Emco(
        status(
            ("Instantiated", "old", 1),
            ("Terminated", "old", 0),
            ("Instantiated", "a", 1),
            ("Updated", "a", 1),
            ("Instantiated", "b", 2),
        )
    )
    assert await rollback(emco, 1, "a") == ("update", 9)
    assert emco.posts() == ["update"]
