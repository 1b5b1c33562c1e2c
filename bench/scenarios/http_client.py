"""Scenario 6: the worker's EMCO HTTP client, variant by variant, under a migration's mix.

Each variant of `bench.http_clients` runs in a child process of its own (so its CPU is
its own figure) and sends R requests from W concurrent tasks, like activities parked on
the worker, through at most C connections (the worker's ``--emco-max-in-flight``): GET of
the DIG status with a verification poll's query, GET of the app intents, PUT of an app
intent (its current body again, so the DIG does not change), over the fleet's DIGs in
turn. The variants take turns within each round (the order rotates).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil

from bench.emco_setup import APP, Fleet
from bench.http_clients import VARIANTS, Request
from bench.stack import BenchStack
from bench.stats import Round, Summary

log = logging.getLogger(__name__)

CLIENT_PROCESS = "client"
EMULATOR_PROCESS = "emco-sim"
REPLY_TIMEOUT = 300.0
# A round's answer is one JSON line with a latency per request; the warm-up round sends the
# whole mix (3 requests per DIG of the main fleet: 3000 when scenario 3's K=1000 runs too,
# about 65 KB of JSON, over asyncio's default 64 KiB line limit).
ANSWER_LIMIT = 16 * 1024 * 1024


class HttpClientFailed(Exception):
    """A client process died or answered nonsense."""


@dataclass(frozen=True)
class HttpClientConfig:
    requests: int  # R per round and variant
    tasks: int  # W
    connections: int  # C
    rounds: int


@dataclass(frozen=True)
class HttpClientResult:
    config: HttpClientConfig
    variants: dict[str, Summary]  # in `VARIANTS` order


def request_mix(fleet: Fleet) -> list[Request]:
    """A verification poll, an app-intent read and an app-intent write per DIG, in turn."""
    mix: list[Request] = []
    for dig in fleet.digs:
        cluster = fleet.location[dig.name]
        query = (("status", "ready"), ("app", APP), ("cluster", str(cluster)))
        body = json.dumps(dig.app_intent_body(cluster)).encode()
        intents = f"{dig.path}/generic-placement-intents/{dig.gpi}/app-intents"
        mix += [
            Request("GET", f"{fleet.emco_url}{dig.path}/status", query),
            Request("GET", f"{fleet.emco_url}{intents}"),
            Request("PUT", f"{fleet.emco_url}{dig.app_intent_path}", body=body),
        ]
    return mix


class ClientProcess:
    """One ``python -m bench.http_clients`` child, driven a round at a time."""

    def __init__(self, variant: str, process: asyncio.subprocess.Process) -> None:
        self.variant = variant
        self._process = process

    @classmethod
    async def start(
        cls, stack: BenchStack, variant: str, config: HttpClientConfig, mix: list[Request]
    ) -> ClientProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.http_clients", variant,
            "--connections", str(config.connections), "--tasks", str(config.tasks),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=stack.env(),
            limit=ANSWER_LIMIT,
        )  # fmt: skip
        child = cls(variant, process)
        await child._write(json.dumps({"requests": [r.to_json() for r in mix]}))
        return child

    async def _write(self, line: str) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(line.encode() + b"\n")
        await self._process.stdin.drain()

    def cpu_seconds(self) -> float:
        times = psutil.Process(self._process.pid).cpu_times()
        return float(times.user + times.system)

    async def round(self, requests: int, emulator_cpu: Callable[[], float]) -> Round:
        """Have the child send ``requests``; its figures and the CPU it and the emulator
        spent meanwhile."""
        assert self._process.stdout is not None
        before = self.cpu_seconds(), emulator_cpu()
        await self._write(str(requests))
        try:
            line = await asyncio.wait_for(self._process.stdout.readline(), REPLY_TIMEOUT)
        except TimeoutError:
            raise HttpClientFailed(f"{self.variant}: no answer in {REPLY_TIMEOUT:g} s") from None
        after = self.cpu_seconds(), emulator_cpu()
        if not line:
            raise HttpClientFailed(f"the {self.variant} client exited: {await self._stderr()}")
        answer: dict[str, Any] = json.loads(line)
        if answer["firstError"]:
            log.warning(
                "%s: %d requests failed; first: %s",
                self.variant, answer["errors"], answer["firstError"],
            )  # fmt: skip
        return Round(
            len(answer["latencies"]),
            float(answer["seconds"]),
            tuple(answer["latencies"]),
            errors=int(answer["errors"]),
            cpu={
                CLIENT_PROCESS: after[0] - before[0],
                EMULATOR_PROCESS: after[1] - before[1],
            },
        )

    async def _stderr(self) -> str:
        """The last line the child wrote to stderr (its exception, when it died)."""
        assert self._process.stderr is not None
        try:
            text = await asyncio.wait_for(self._process.stderr.read(), 10)
        except TimeoutError:
            return "(no error output)"
        lines = text.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "(no error output)"

    async def stop(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            await self._process.wait()


async def run(stack: BenchStack, fleet: Fleet, config: HttpClientConfig) -> HttpClientResult:
    """Start one child per variant, warm each up, then the rounds."""
    mix = request_mix(fleet)
    emulator_pid = stack.pid(EMULATOR_PROCESS)

    def emulator_cpu() -> float:
        times = psutil.Process(emulator_pid).cpu_times()
        return float(times.user + times.system)

    children: list[ClientProcess] = []
    try:
        for variant in VARIANTS:
            children.append(await ClientProcess.start(stack, variant, config, mix))
        for child in children:
            await child.round(max(config.tasks, len(mix)), emulator_cpu)
        rounds: dict[str, list[Round]] = {v: [] for v in VARIANTS}
        for n in range(config.rounds):
            turn = n % len(children)
            for child in children[turn:] + children[:turn]:
                rounds[child.variant].append(await child.round(config.requests, emulator_cpu))
    finally:
        for child in children:
            await child.stop()
    return HttpClientResult(config, {v: Summary(tuple(r)) for v, r in rounds.items()})
