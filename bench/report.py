"""The results table, PASS/FAIL lines against the targets, and the JSON file."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.config import (
    EVACUATION_EFFICIENCY_TARGET,
    MIGRATION_RATIO_TARGET,
    OVERHEAD_MS_TARGET,
    PARKED_KIB_TARGET,
    REQUESTS_PER_MIGRATION_TARGET,
    START_P99_RATIO_TARGET,
    START_RATIO_TARGET,
    BenchConfig,
)
from bench.scenarios.emulator import EmulatorResult
from bench.scenarios.fleet import FleetResult
from bench.scenarios.http_client import HttpClientResult
from bench.scenarios.memory import MemoryResult
from bench.scenarios.migration import MigrationResult
from bench.scenarios.polling import PollingResult, PollingVariant
from bench.scenarios.start_path import StartPathResult
from bench.stats import Summary, paired_cpu_ratio, paired_p99_ratio, paired_ratio


@dataclass(frozen=True)
class Target:
    """One target (issues 6 and 14) and how this run did."""

    name: str
    value: float
    limit: float
    at_least: bool
    detail: str = ""  # what the value was computed from, when that helps to read it

    @property
    def passed(self) -> bool:
        if math.isnan(self.value):
            return False
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        sign = ">=" if self.at_least else "<="
        detail = f" ({self.detail})" if self.detail else ""
        return f"  {verdict}  {self.name} {sign} {self.limit:g}: {_num(self.value)}{detail}"

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.name,
            "limit": self.limit,
            "atLeast": self.at_least,
            "value": _finite(self.value),
            "pass": self.passed,
        }


@dataclass
class Results:
    """Everything one run measured (a scenario left out is None)."""

    config: BenchConfig
    meta: dict[str, Any]
    start: StartPathResult | None = None
    migration: MigrationResult | None = None
    memory: MemoryResult | None = None
    emulator: EmulatorResult | None = None
    fleet: FleetResult | None = None
    polling: PollingResult | None = None
    http: HttpClientResult | None = None
    notes: list[str] = field(default_factory=list)

    def targets(self) -> list[Target]:
        found = []
        if self.start is not None:
            found.append(
                Target(
                    "start path b/a throughput",
                    paired_ratio(self.start.ours, self.start.floor),
                    START_RATIO_TARGET,
                    at_least=True,
                )
            )
            found.append(
                Target(
                    f"start path b p99 / floor p99 at C={self.start.config.concurrency}",
                    paired_p99_ratio(self.start.ours, self.start.floor),
                    START_P99_RATIO_TARGET,
                    at_least=False,
                    detail=f"b {_num(self.start.ours.p99 * 1000)} ms, "
                    f"floor {_num(self.start.floor.p99 * 1000)} ms",
                )
            )
        if (m := self.migration) is not None:
            found.append(
                Target(
                    "migration throughput ours/floor",
                    paired_ratio(m.ours, m.floor),
                    MIGRATION_RATIO_TARGET,
                    at_least=True,
                )
            )
            found.append(
                Target(
                    "EMCO requests per verified one-app migration",
                    m.requests_per_migration,
                    REQUESTS_PER_MIGRATION_TARGET,
                    at_least=False,
                    detail=f"{_num(m.polls)} verification poll(s) each",
                )
            )
        if (f := self.fleet) is not None:
            c = f.config
            found.append(
                Target(
                    f"evacuation efficiency at M={c.digs}, K={c.max_in_flight}",
                    f.efficiency,
                    EVACUATION_EFFICIENCY_TARGET,
                    at_least=True,
                    detail=f"ideal {_num(f.ideal_seconds)} s, actual {_num(f.seconds)} s",
                )
            )
            found.append(
                Target(
                    "single migration overhead ms p50 (wall - rollout delay)",
                    f.overhead_ms,
                    OVERHEAD_MS_TARGET,
                    at_least=False,
                )
            )
        if (mem := self.memory) is not None:
            found.append(
                Target(
                    f"worker KiB per parked migration at K={mem.config.parked}",
                    mem.kib_per_migration,
                    PARKED_KIB_TARGET,
                    at_least=False,
                )
            )
        return found

    def table(self) -> str:
        """The human-readable report."""
        meta = self.meta
        lines = [
            f"emco-migrate benchmark ({self.config.name}): {meta['cpus']} CPUs, "
            f"Python {meta['python']}, temporalio {meta['temporalio']}, "
            f"temporal CLI {meta['temporalCli']}, {meta['startedAt']}",
            "Figures are medians over rounds; latencies in ms; a ratio is the median of the "
            "rounds' ratios (variants run back to back within each round).",
        ]
        if (s := self.start) is not None:
            c = s.config
            lines += [
                "",
                f"1. Start path: N={c.starts} starts at C={c.concurrency}, {c.rounds} rounds",
                _header("starts/s"),
                _row("a. floor: Client.start_workflow", s.floor),
                _row("b. ours: POST /invoke (in-process)", s.ours),
                _row(f"c. reference: --exec-dir (N={c.exec_starts})", s.exec),
                *_cpu_block(
                    "CPU ms per start",
                    [("a. floor", s.floor), ("b. ours", s.ours), ("c. reference", s.exec)],
                    START_CPU_COLUMNS,
                ),
                f"   b/a {_num(paired_ratio(s.ours, s.floor))}   "
                f"c/a {_num(paired_ratio(s.exec, s.floor))}   "
                f"b-a p99 {_num((s.ours.p99 - s.floor.p99) * 1000)} ms",
            ]
        if (m := self.migration) is not None:
            c2 = m.config
            lines += [
                "",
                f"2. Migration throughput: M={c2.migrations} DIGs at once, {c2.rounds} rounds",
                _header("migr./s"),
                _row("ours: /invoke -> verified", m.ours),
                _row(f"floor: 3 no-op + {_num(m.polls)} status poll(s)", m.floor),
                *_cpu_block(
                    "CPU ms per migration",
                    [("ours", m.ours), ("floor", m.floor)],
                    MIGRATION_CPU_COLUMNS,
                ),
                f"   ours/floor {_num(paired_ratio(m.ours, m.floor))}",
                f"   EMCO requests per migration {_num(m.requests_per_migration)} "
                f"({_num(m.per_migration(lambda r: r.reads))} reads, "
                f"{_num(m.per_migration(lambda r: r.writes))} writes); "
                f"verification polls per migration {_num(m.polls)}",
            ]
        if (mem := self.memory) is not None:
            waiting = mem.verifying < mem.config.parked
            lines += [
                "",
                f"3. Worker memory (emco-migrate worker): K={mem.config.parked} migrations "
                f"parked in verification, {mem.config.rounds} rounds",
                f"   {'idle RSS':<22}{mem.idle_kib / 1024:>10.1f} MiB",
                f"   {'with K parked':<22}{mem.parked_kib / 1024:>10.1f} MiB",
                f"   {'per parked migration':<22}{_num(mem.kib_per_migration):>10} KiB",
                f"   {'VerifyMigration running':<22}{_num(mem.verifying):>10} of "
                f"{mem.config.parked}"
                + (" (the rest wait for an activity slot)" if waiting else ""),
            ]
        if (e := self.emulator) is not None:
            lines += [
                "",
                f"4. Emulator ceiling: {e.config.requests} requests at C={e.config.concurrency}, "
                f"{e.config.rounds} rounds",
                _header("req/s"),
                _row("PUT app intent", e.put_intent),
                _row("GET DIG status (ready, app, cluster)", e.get_status),
                *_cpu_block(
                    "CPU ms per request",
                    [("PUT app intent", e.put_intent), ("GET DIG status", e.get_status)],
                    EMULATOR_CPU_COLUMNS,
                ),
            ]
        if (f := self.fleet) is not None:
            lines += self._fleet_lines(f)
        if (h := self.http) is not None:
            lines += self._http_lines(h)
        if (p := self.polling) is not None:
            lines += _polling_lines(p)
        targets = self.targets()
        if targets:
            lines += ["", "Targets:", *(t.line() for t in targets)]
        if self.notes:
            lines += ["", "Notes:", *(f"  - {n}" for n in self.notes)]
        return "\n".join(lines)

    @staticmethod
    def _fleet_lines(f: FleetResult) -> list[str]:
        c = f.config
        singles = sum(len(r.singles.latencies) for r in f.rounds)
        return [
            "",
            f"5. Fleet: evacuation of M={c.digs} DIGs at maxInFlight K={c.max_in_flight}, "
            f"rollout delay {c.rollout_delay:g} s, {c.rounds} rounds",
            _header("DIGs/s"),
            _row("evacuation (p50/p99: each child)", f.evacuation),
            *_cpu_block("CPU ms per DIG", [("evacuation", f.evacuation)], MIGRATION_CPU_COLUMNS),
            f"   single migration at rest ({singles}, one at a time): "
            f"p50 {_num(f.single_seconds * 1000)} ms, "
            f"overhead (wall - {c.rollout_delay:g} s) p50 {_num(f.overhead_ms)} ms",
            f"   evacuation {_num(f.seconds)} s; ideal ceil({c.digs}/{c.max_in_flight}) x "
            f"single = {_num(f.ideal_seconds)} s; efficiency {_num(f.efficiency)}",
            f"   first child started {_num(f.first_child_seconds)} s after the POST "
            f"(discovery, plan); the K-th {_num(f.fill_seconds)} s after the first",
            f"   EMCO requests: {_num(f.requests('per_dig'))} per DIG, "
            f"{_num(f.requests('mean'))}/s mean, {_num(f.requests('peak1s'))}/s busiest 1 s, "
            f"{_num(f.requests('peak5s'))}/s busiest 5 s",
        ]

    @staticmethod
    def _http_lines(h: HttpClientResult) -> list[str]:
        c = h.config
        rows = [(f"{chr(ord('a') + i)}. {HTTP_LABELS[v]}", s) for i, (v, s) in
                enumerate(h.variants.items())]  # fmt: skip
        lines = [
            "",
            f"6. EMCO HTTP client: R={c.requests} requests from W={c.tasks} tasks over "
            f"C={c.connections} connections, {c.rounds} rounds",
            _header("req/s"),
            *(_row(label, summary) for label, summary in rows),
            *_cpu_block("CPU ms per request", rows, HTTP_CPU_COLUMNS),
        ]
        variants = list(h.variants.values())
        if len(variants) > 1:
            base = variants[0]
            pairs = [
                f"{chr(ord('a') + i)}/a req/s {_num(paired_ratio(s, base))}, client CPU "
                f"{_num(paired_cpu_ratio(s, base, HTTP_CPU_COLUMNS[0][1]))}"
                for i, s in enumerate(variants)
                if i
            ]
            lines.append("   " + "; ".join(pairs))
        return lines

    def to_json(self) -> dict[str, Any]:
        """The JSON document written to bench/results/latest.json."""
        out: dict[str, Any] = {"meta": self.meta, "preset": self.config.name}
        if (s := self.start) is not None:
            out["startPath"] = {
                "starts": s.config.starts,
                "concurrency": s.config.concurrency,
                "execStarts": s.config.exec_starts,
                "floor": s.floor.to_json(),
                "ours": s.ours.to_json(),
                "exec": s.exec.to_json(),
                "oursOverFloor": _finite(paired_ratio(s.ours, s.floor)),
                "execOverFloor": _finite(paired_ratio(s.exec, s.floor)),
            }
        if (m := self.migration) is not None:
            out["migration"] = {
                "migrations": m.config.migrations,
                "floorStatusPolls": _finite(m.polls),
                "verificationPollsPerMigration": _finite(m.polls),
                "emcoRequestsPerMigration": _finite(m.requests_per_migration),
                "emcoReadsPerMigration": _finite(m.per_migration(lambda r: r.reads)),
                "emcoWritesPerMigration": _finite(m.per_migration(lambda r: r.writes)),
                "emcoRequests": [r.to_json() for r in m.requests],
                "ours": m.ours.to_json(),
                "floor": m.floor.to_json(),
                "oursOverFloor": _finite(paired_ratio(m.ours, m.floor)),
            }
        if (f := self.fleet) is not None:
            out["fleet"] = {
                "digs": f.config.digs,
                "maxInFlight": f.config.max_in_flight,
                "rolloutDelaySeconds": f.config.rollout_delay,
                "singleMigrationP50Ms": _finite(f.single_seconds * 1000),
                "overheadP50Ms": _finite(f.overhead_ms),
                "evacuationSeconds": _finite(f.seconds),
                "idealSeconds": _finite(f.ideal_seconds),
                "efficiency": _finite(f.efficiency),
                "firstChildSeconds": _finite(f.first_child_seconds),
                "windowFillSeconds": _finite(f.fill_seconds),
                "emcoRequestsPerDig": _finite(f.requests("per_dig")),
                "emcoRequestsPerSecondMean": _finite(f.requests("mean")),
                "emcoRequestsPerSecondPeak1s": _finite(f.requests("peak1s")),
                "emcoRequestsPerSecondPeak5s": _finite(f.requests("peak5s")),
                "evacuation": f.evacuation.to_json(),
                "singles": f.singles.to_json(),
                "rounds": [
                    {
                        "seconds": round(r.evacuation.seconds, 3),
                        "idealSeconds": _finite(r.ideal_seconds),
                        "efficiency": _finite(r.efficiency),
                        "firstChildSeconds": _finite(r.first_child_seconds),
                        "windowFillSeconds": _finite(r.fill_seconds),
                        "emcoRequests": r.requests.to_json(),
                    }
                    for r in f.rounds
                ],
            }
        if (mem := self.memory) is not None:
            out["memory"] = {
                "parked": mem.config.parked,
                "idleKiB": _finite(mem.idle_kib),
                "parkedKiB": _finite(mem.parked_kib),
                "kibPerParkedMigration": _finite(mem.kib_per_migration),
                "verifyingRunning": _finite(mem.verifying),
                "rounds": [
                    {
                        "idleKiB": _finite(r.idle_kib),
                        "parkedKiB": _finite(r.parked_kib),
                        "kibPerParkedMigration": _finite(r.kib_per_migration),
                        "verifyingRunning": r.verifying,
                    }
                    for r in mem.rounds
                ],
            }
        if (e := self.emulator) is not None:
            out["emulator"] = {
                "requests": e.config.requests,
                "concurrency": e.config.concurrency,
                "putAppIntent": e.put_intent.to_json(),
                "getDigStatus": e.get_status.to_json(),
            }
        if (p := self.polling) is not None:
            out["polling"] = _polling_json(p)
        if (h := self.http) is not None:
            out["httpClient"] = {
                "requests": h.config.requests,
                "tasks": h.config.tasks,
                "connections": h.config.connections,
                "variants": {v: summary.to_json() for v, summary in h.variants.items()},
            }
        out["targets"] = [t.to_json() for t in self.targets()]
        out["notes"] = list(self.notes)
        return out


# (column header, process name in `BenchStack.cpu_seconds`)
START_CPU_COLUMNS = (
    ("temporal", "temporal"),
    ("http-srv", "http-server-start"),
    ("bench", "bench"),
)
MIGRATION_CPU_COLUMNS = (
    ("worker", "bench-worker"),
    ("temporal", "temporal"),
    ("emulator", "emco-sim"),
    ("http-srv", "http-server"),
)
EMULATOR_CPU_COLUMNS = (("emulator", "emco-sim"), ("bench", "bench"))
HTTP_CPU_COLUMNS = (("client", "client"), ("emulator", "emco-sim"))
HTTP_LABELS = {
    "httpx-queue": "httpx/httpcore + semaphore (before)",
    "httpx-pool": "httpx/httpcore, pool limit only",
    "httpx-aiohttp": "httpx/aiohttp transport (the worker)",
    "aiohttp": "aiohttp ClientSession (reference)",
}


POLLING_CPU_COLUMNS = (
    ("temporal", "temporal"),
    ("worker", "bench-worker"),
    ("emulator", "emco-sim"),
)


def _polling_lines(p: PollingResult) -> list[str]:
    c = p.config
    variants = p.variants

    def block(
        title: str, headers: tuple[str, ...], cells: Callable[[PollingVariant], list[str]]
    ) -> list[str]:
        lines = [f"   {title:<40}" + "".join(f"{h:>12}" for h in headers)]
        for v in variants:
            lines.append(f"     {v.label:<38}" + "".join(f"{x:>12}" for x in cells(v)))
        return lines

    def slots(v: PollingVariant, local: bool) -> str:
        return f"{v.slots(local, 50):g} ({v.slots(local, 100):g})"

    def cpu(v: PollingVariant, per: str) -> list[str]:
        return [_num(v.figure(per, process)) for _, process in POLLING_CPU_COLUMNS]

    idle = ", ".join(f"{k} {_num(ms)}" for k, ms in p.idle_cpu_ms_per_second.items())
    return [
        "",
        f"7. Verification polling designs: K={c.parked} workflows parked P={c.parked_seconds:g} s, "
        f"waits from 0.25 s, x1.5, up to the cap; {c.rounds} round(s)",
        *block(
            "while parked",
            ("polls/wf", "EMCO req/s", "act. slots", "LA slots"),
            lambda v: [
                _num(v.polls_per_workflow),
                _num(v.requests_per_second),
                slots(v, local=False),
                slots(v, local=True),
            ],
        ),
        *block(
            "CPU ms per poll",
            tuple(h for h, _ in POLLING_CPU_COLUMNS),
            lambda v: cpu(v, "cpu_ms_per_poll"),
        ),
        *block(
            "CPU ms per parked workflow-second",
            tuple(h for h, _ in POLLING_CPU_COLUMNS),
            lambda v: cpu(v, "cpu_ms_per_parked_second"),
        ),
        *block(
            "history per workflow at the end",
            ("events", "KiB", "events/poll", "wf tasks"),
            lambda v: [
                _num(v.figure("history", "events")),
                _num(v.figure("history", "size_bytes") / 1024),
                _num(v.figure("events_per_poll")),
                _num(v.figure("history", "workflow_tasks")),
            ],
        ),
        *block(
            "after the release, ms (p50; all: max)",
            ("Ready seen", "done", "seen->done", "all done"),
            lambda v: [
                _num(v.release(50, "seen") * 1000),
                _num(v.release(50) * 1000),
                _num(v.release(50, "lag") * 1000),
                _num(v.release(100) * 1000),
            ],
        ),
        f"   slots: median (max) of 1 s samples; the worker runs at most "
        f"{p.max_concurrent_activities} activities at once",
        f"   idle stack, CPU ms per second: {idle}",
    ]


def _polling_json(p: PollingResult) -> dict[str, Any]:
    def variant(v: PollingVariant) -> dict[str, Any]:
        return {
            "design": str(v.design),
            "label": v.design.label,
            "capSeconds": v.cap,
            "pollsPerWorkflow": _finite(v.polls_per_workflow),
            "emcoRequestsPerSecond": _finite(v.requests_per_second),
            "activitySlotsP50": _finite(v.slots(False, 50)),
            "activitySlotsMax": _finite(v.slots(False, 100)),
            "localActivitySlotsP50": _finite(v.slots(True, 50)),
            "localActivitySlotsMax": _finite(v.slots(True, 100)),
            "cpuMsPerPoll": {
                h: _finite(v.figure("cpu_ms_per_poll", proc)) for h, proc in POLLING_CPU_COLUMNS
            },
            "cpuMsPerParkedWorkflowSecond": {
                h: _finite(v.figure("cpu_ms_per_parked_second", proc))
                for h, proc in POLLING_CPU_COLUMNS
            },
            "historyEvents": _finite(v.figure("history", "events")),
            "historyBytes": _finite(v.figure("history", "size_bytes")),
            "historyEventsPerPoll": _finite(v.figure("events_per_poll")),
            "workflowTasks": _finite(v.figure("history", "workflow_tasks")),
            "readySeenP50Ms": _finite(v.release(50, "seen") * 1000),
            "releaseP50Ms": _finite(v.release(50) * 1000),
            "seenToDoneP50Ms": _finite(v.release(50, "lag") * 1000),
            "releaseAllMs": _finite(v.release(100) * 1000),
            "rounds": [
                {
                    "seconds": round(r.seconds, 3),
                    "polls": r.polls,
                    "cpuSeconds": {k: round(x, 3) for k, x in r.cpu.items()},
                    "activitySlots": list(r.activity_slots),
                    "localActivitySlots": list(r.local_slots),
                    "emcoRequests": r.requests.to_json(),
                }
                for r in v.rounds
            ],
        }

    return {
        "parked": p.config.parked,
        "parkedSeconds": p.config.parked_seconds,
        "caps": list(p.config.caps),
        "maxConcurrentActivities": p.max_concurrent_activities,
        "idleCpuMsPerSecond": {k: _finite(x) for k, x in p.idle_cpu_ms_per_second.items()},
        "variants": [variant(v) for v in p.variants],
    }


def _cpu_block(
    title: str, rows: list[tuple[str, Summary]], columns: tuple[tuple[str, str], ...]
) -> list[str]:
    lines = [f"   {title:<40}" + "".join(f"{header:>10}" for header, _ in columns)]
    for label, summary in rows:
        cells = "".join(f"{_num(summary.cpu_ms_per_operation(p)):>10}" for _, p in columns)
        lines.append(f"     {label:<38}{cells}")
    return lines


def _header(unit: str) -> str:
    return f"   {'':<40}{unit:>10}{'p50':>10}{'p99':>10}"


def _row(label: str, summary: Summary) -> str:
    errors = f"   ({summary.errors} errors)" if summary.errors else ""
    return (
        f"   {label:<40}{_num(summary.rate):>10}{_num(summary.p50 * 1000):>10}"
        f"{_num(summary.p99 * 1000):>10}{errors}"
    )


def _num(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)
