"""Scenario 4: the emulator's ceiling for the two requests a migration leans on most.

``PUT`` of an app intent (the same body again: the DIG does not change) and ``GET`` of the
DIG status with the query a verification poll makes, each at concurrency C over the
fleet's DIGs in turn. If scenario 2's request rate comes near these, the emulator and not
our code bounds it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial

from bench.emco_setup import Fleet
from bench.load import HttpPool, Operation, drive
from bench.stack import BenchStack
from bench.stats import Round, Summary


@dataclass(frozen=True)
class EmulatorConfig:
    requests: int
    concurrency: int
    rounds: int


@dataclass(frozen=True)
class EmulatorResult:
    config: EmulatorConfig
    put_intent: Summary
    get_status: Summary


async def run(stack: BenchStack, fleet: Fleet, config: EmulatorConfig) -> EmulatorResult:
    """Alternate PUT and GET rounds on a pool of ``concurrency`` connections."""
    cpu = stack.cpu_seconds
    puts: list[Round] = []
    gets: list[Round] = []
    digs = fleet.digs
    async with HttpPool(fleet.emco_url, config.concurrency) as http:

        def put_ops(count: int) -> list[Operation]:
            ops: list[Operation] = []
            for n in range(count):
                dig = digs[n % len(digs)]
                body = json.dumps(dig.app_intent_body(fleet.location[dig.name])).encode()
                ops.append(partial(http.request, "PUT", dig.app_intent_path, body, expect=(200,)))
            return ops

        def get_ops(count: int) -> list[Operation]:
            ops: list[Operation] = []
            for n in range(count):
                dig = digs[n % len(digs)]
                target = dig.status_target(fleet.location[dig.name])
                ops.append(partial(http.request, "GET", target))
            return ops

        await drive(put_ops(config.concurrency * 2), config.concurrency)
        await drive(get_ops(config.concurrency * 2), config.concurrency)
        for n in range(config.rounds):
            order = ("put", "get") if n % 2 == 0 else ("get", "put")
            for kind in order:
                if kind == "put":
                    puts.append(await drive(put_ops(config.requests), config.concurrency, cpu))
                else:
                    gets.append(await drive(get_ops(config.requests), config.concurrency, cpu))
    return EmulatorResult(config, Summary(tuple(puts)), Summary(tuple(gets)))
