"""Scenario 1: N workflow starts at concurrency C, three ways.

a. floor: `Client.start_workflow` from this process, with the arguments the migrate
   client would compute (parsed once, up front);
b. ours: ``POST /invoke/migrate_workflowclient`` with the Go invoke body;
c. the Go reference's design: the same server runs one ``migrate_workflowclient``
   process per start (``--exec-dir``), which opens its own Temporal connection.

Every start goes to namespace ``bench-start``, where no worker polls: only the start is
measured. The variants take turns within each round (the order rotates).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import partial

from temporalio.client import Client

from bench.bodies import invoke_body
from bench.load import HttpPool, Operation, drive
from bench.stack import EXEC_CLIENT, START_NAMESPACE, BenchStack
from bench.stats import Round, Summary
from emco_migrate.emcomigrate.names import MIGRATE_WORKFLOW_CLIENT, TASK_QUEUE, WORKFLOW_NAME
from emco_migrate.wire.temporal import TemporalSpec, workflow_input
from emco_migrate.workflowclients.start_options import start_settings

VARIANTS = ("floor", "ours", "exec")
WARMUP_STARTS = 20
WARMUP_EXEC_STARTS = 2


@dataclass(frozen=True)
class StartPathConfig:
    starts: int
    concurrency: int
    exec_starts: int
    rounds: int


@dataclass(frozen=True)
class StartPathResult:
    config: StartPathConfig
    floor: Summary
    ours: Summary
    exec: Summary


async def run(
    stack: BenchStack, params: dict[str, str], config: StartPathConfig
) -> StartPathResult:
    """Warm each variant up, then run the rounds; returns every round's figures."""
    client = await Client.connect(stack.temporal_address, namespace=START_NAMESPACE)
    run_id = uuid.uuid4().hex[:8]
    rounds: dict[str, list[Round]] = {v: [] for v in VARIANTS}
    async with HttpPool(stack.start_url, config.concurrency) as http:
        variants = _Variants(client, http, params, run_id)
        for variant in VARIANTS:
            warmup = WARMUP_EXEC_STARTS if variant == "exec" else WARMUP_STARTS
            await drive(variants.operations(variant, "warmup", warmup), config.concurrency)
        for n in range(config.rounds):
            order = VARIANTS[n % 3 :] + VARIANTS[: n % 3]
            for variant in order:
                count = config.exec_starts if variant == "exec" else config.starts
                operations = variants.operations(variant, str(n), count)
                rounds[variant].append(
                    await drive(operations, config.concurrency, cpu=stack.cpu_seconds)
                )
    return StartPathResult(config, *(Summary(tuple(rounds[v])) for v in VARIANTS))


class _Variants:
    def __init__(self, client: Client, http: HttpPool, params: dict[str, str], run_id: str) -> None:
        self.client = client
        self.http = http
        self.params = params
        self.run_id = run_id
        spec = TemporalSpec.from_json(invoke_body("template", params))
        self.input = workflow_input(spec.params)
        self.kwargs = start_settings(spec.start_options).kwargs()

    def operations(self, variant: str, tag: str, count: int) -> list[Operation]:
        ids = [f"bench-{variant}-{self.run_id}-{tag}-{i}" for i in range(count)]
        if variant == "floor":
            return [partial(self._start, i) for i in ids]
        name = MIGRATE_WORKFLOW_CLIENT if variant == "ours" else EXEC_CLIENT
        bodies = [invoke_body(i, self.params, name) for i in ids]
        target = f"/invoke/{name}"
        return [partial(self.http.request, "POST", target, body, expect=(204,)) for body in bodies]

    async def _start(self, workflow_id: str) -> None:
        await self.client.start_workflow(
            WORKFLOW_NAME, self.input, task_queue=TASK_QUEUE, **{**self.kwargs, "id": workflow_id}
        )
