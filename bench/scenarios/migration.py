"""Scenario 2: M deployment groups migrated at once through ``/invoke``, against a floor.

Ours: one ``POST /invoke/migrate_workflowclient`` per DIG, all at once; each latency runs
from the POST to the workflow's completion (seen through its result), and the round's
rate is M over the time from the first POST to the last completion. Every migration must
complete (phase ``completed``), so each round really moves M apps and verifies them.

Floor: the same M, started with `Client.start_workflow` on the same worker and task queue,
running `bench.floor.FloorWorkflow` (three no-op activities, then as many DIG status GETs
as our verification made polls, read from our workflows' histories).

Per round of ours, also: the EMCO requests the M migrations made (the emulator's meter,
reset before the round) and the verification polls each made (every workflow's history,
read after the round), both per migration.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from temporalio.client import Client

from bench.bodies import invoke_body
from bench.emco_setup import BenchDig, Fleet, read_request_counts, reset_request_counts
from bench.floor import FLOOR_WORKFLOW, FloorRequest
from bench.load import HttpPool, drive
from bench.stack import BenchStack
from bench.stats import RequestCounts, Round, Summary, median
from emco_migrate.emcomigrate.names import ACTIVITY_VERIFY, MIGRATE_WORKFLOW_CLIENT, TASK_QUEUE

MAX_CONNECTIONS = 256
HISTORY_CONCURRENCY = 16
WARMUP_MIGRATIONS = 10


class MigrationFailed(Exception):
    """A benchmark migration did not complete."""


@dataclass(frozen=True)
class MigrationConfig:
    migrations: int
    rounds: int


@dataclass(frozen=True)
class MigrationResult:
    config: MigrationConfig
    ours: Summary
    floor: Summary
    requests: tuple[RequestCounts, ...] = ()  # per round of ours
    polls_per_round: tuple[float, ...] = ()  # mean verification polls per migration

    @property
    def polls(self) -> float:
        """Verification polls per migration (the median over rounds of each round's mean)."""
        return median(list(self.polls_per_round))

    def per_migration(self, count: Callable[[RequestCounts], int]) -> float:
        """EMCO requests (as ``count`` picks them) per migration, median over rounds."""
        return median([count(r) / self.config.migrations for r in self.requests])

    @property
    def requests_per_migration(self) -> float:
        return self.per_migration(lambda r: r.total)


class Migrator:
    """Migrates DIGs of a fleet through ``/invoke`` and waits for each result."""

    def __init__(self, client: Client, http: HttpPool, fleet: Fleet) -> None:
        self.client = client
        self.http = http
        self.fleet = fleet
        self.run_id = uuid.uuid4().hex[:8]

    def workflow_id(self, dig: BenchDig, tag: str) -> str:
        return f"bench-migrate-{self.run_id}-{tag}-{dig.name}"

    async def invoke(self, dig: BenchDig, tag: str) -> str:
        """POST the migration of ``dig`` to its other cluster; its workflow ID."""
        workflow_id = self.workflow_id(dig, tag)
        body = invoke_body(workflow_id, dig.activity_params(self.fleet.target(dig)))
        await self.http.request("POST", f"/invoke/{MIGRATE_WORKFLOW_CLIENT}", body, expect=(204,))
        return workflow_id

    async def completed(self, dig: BenchDig, workflow_id: str) -> None:
        """Wait for the migration's result; raise unless it completed."""
        result = await self.client.get_workflow_handle(workflow_id).result()
        if not isinstance(result, dict) or result.get("phase") != "completed":
            phase = result.get("phase") if isinstance(result, dict) else result
            raise MigrationFailed(f"{workflow_id} ended in phase {phase!r}")
        self.fleet.moved(dig)

    async def migrate_all(
        self,
        digs: Sequence[BenchDig],
        tag: str,
        cpu: Callable[[], dict[str, float]] | None = None,
    ) -> Round:
        """Migrate every DIG at once; one latency per DIG, invoke to completion."""

        async def one(dig: BenchDig) -> None:
            await self.completed(dig, await self.invoke(dig, tag))

        return await drive([partial(one, d) for d in digs], len(digs), cpu=cpu)


async def verification_polls(client: Client, workflow_ids: Sequence[str]) -> float:
    """The mean number of polls VerifyMigration made per workflow, from their histories."""
    lanes = asyncio.Semaphore(HISTORY_CONCURRENCY)

    async def polls_of(workflow_id: str) -> list[float]:
        async with lanes:
            history = await client.get_workflow_handle(workflow_id).fetch_history()
        polls: list[float] = []
        verify_ids = {
            e.event_id
            for e in history.events
            if e.HasField("activity_task_scheduled_event_attributes")
            and e.activity_task_scheduled_event_attributes.activity_type.name == ACTIVITY_VERIFY
        }
        for event in history.events:
            if event.HasField("activity_task_completed_event_attributes"):
                done = event.activity_task_completed_event_attributes
                if done.scheduled_event_id in verify_ids:
                    polls.append(float(json.loads(done.result.payloads[0].data)["polls"]))
        return polls

    per_workflow = await asyncio.gather(*(polls_of(i) for i in workflow_ids))
    return statistics.fmean(sum(p) for p in per_workflow) if per_workflow else float("nan")


async def run(stack: BenchStack, fleet: Fleet, config: MigrationConfig) -> MigrationResult:
    """Warm up, then per round: ours and the floor, in alternating order."""
    client = await Client.connect(stack.temporal_address)
    digs = fleet.digs[: config.migrations]
    ours: list[Round] = []
    floor: list[Round] = []
    requests: list[RequestCounts] = []
    polls: list[float] = []
    async with HttpPool(stack.invoke_url, min(MAX_CONNECTIONS, len(digs))) as http:
        migrator = Migrator(client, http, fleet)
        warmup = await migrator.migrate_all(digs[:WARMUP_MIGRATIONS], "warmup")
        _check(warmup, "warm-up")
        for n in range(config.rounds):
            for variant in ("ours", "floor") if n % 2 == 0 else ("floor", "ours"):
                if variant == "ours":
                    tag = f"r{n}"
                    await reset_request_counts(fleet.emco_url)
                    result = await migrator.migrate_all(digs, tag, cpu=stack.cpu_seconds)
                    ours.append(_check(result, "migration"))
                    requests.append(await read_request_counts(fleet.emco_url))
                    ids = [migrator.workflow_id(d, tag) for d in digs]
                    polls.append(await verification_polls(client, ids))
                else:
                    floor_polls = polls[-1] if polls else 1.0
                    floor.append(
                        await _floor_round(stack, client, fleet, digs, floor_polls, f"r{n}")
                    )
    return MigrationResult(
        config, Summary(tuple(ours)), Summary(tuple(floor)), tuple(requests), tuple(polls)
    )


async def _floor_round(
    stack: BenchStack,
    client: Client,
    fleet: Fleet,
    digs: Sequence[BenchDig],
    polls: float,
    tag: str,
) -> Round:
    run_id = uuid.uuid4().hex[:8]

    async def one(dig: BenchDig) -> None:
        request = FloorRequest(
            status_url=fleet.emco_url + dig.status_target(fleet.location[dig.name]),
            polls=max(1, round(polls)),
        )
        handle = await client.start_workflow(
            FLOOR_WORKFLOW,
            request,
            id=f"bench-floor-{run_id}-{tag}-{dig.name}",
            task_queue=TASK_QUEUE,
        )
        await handle.result()

    return await drive([partial(one, d) for d in digs], len(digs), cpu=stack.cpu_seconds)


def _check(result: Round, what: str) -> Round:
    if result.errors:
        raise MigrationFailed(f"{result.errors} {what}(s) did not complete; see the worker log")
    return result
