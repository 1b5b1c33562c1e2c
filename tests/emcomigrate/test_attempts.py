"""The background heartbeat of an EMCO step (`attempts.heartbeating`)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

from temporalio.testing import ActivityEnvironment

from emco_migrate.emcomigrate.attempts import heartbeating


async def beats_during(seconds: float, heartbeat_timeout: timedelta) -> list[tuple[Any, ...]]:
    """The heartbeats an activity sends while a block of ``seconds`` runs."""
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(environment.info, heartbeat_timeout=heartbeat_timeout)
    sent: list[tuple[Any, ...]] = []
    environment.on_heartbeat = lambda *details: sent.append(details)

    async def step() -> None:
        async with heartbeating("reading"):
            await asyncio.sleep(seconds)

    await environment.run(step)
    return sent


async def test_a_step_shorter_than_a_third_of_the_heartbeat_timeout_sends_no_heartbeat() -> None:
    # Temporal counts the timeout from the attempt's start: a quick EMCO read needs no call.
    assert await beats_during(0.05, timedelta(seconds=3)) == []


async def test_a_longer_step_heartbeats_every_third_of_the_timeout_with_its_details() -> None:
    sent = await beats_during(0.5, timedelta(milliseconds=300))  # a beat every 0.1 s
    assert 2 <= len(sent) <= 5
    assert set(sent) == {("reading",)}
