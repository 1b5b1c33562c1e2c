"""The benchmark harness on tiny sizes: every scenario produces its figures (speed unchecked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def rates(summary: dict[str, Any]) -> list[float]:
    return [r["rate"] for r in summary["rounds"]]


def test_smoke_run_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--preset", "smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    for heading in ("1. Start path", "2. Migration throughput", "3. Worker memory",
                    "4. Emulator ceiling", "5. Fleet", "6. EMCO HTTP client",
                    "7. Verification polling designs",
                    "Targets:"):  # fmt: skip
        assert heading in result.stdout

    figures = json.loads(out.read_text())
    start = figures["startPath"]
    for variant in ("floor", "ours", "exec"):
        assert start[variant]["errors"] == 0
        assert all(rate > 0 for rate in rates(start[variant]))
        assert start[variant]["p99Ms"] >= start[variant]["p50Ms"] > 0
    assert start["oursOverFloor"] > 0 and start["execOverFloor"] > 0

    migration = figures["migration"]
    assert all(rate > 0 for rate in rates(migration["ours"]) + rates(migration["floor"]))
    assert migration["oursOverFloor"] > 0
    assert migration["floorStatusPolls"] >= 1
    assert migration["ours"]["cpuMsPerOperation"]["bench-worker"] > 0
    # Every migration reads and writes EMCO; the meter agrees with the emulator's own log.
    assert migration["verificationPollsPerMigration"] >= 1
    assert migration["emcoReadsPerMigration"] >= 1
    assert migration["emcoWritesPerMigration"] >= 1
    for counted in migration["emcoRequests"]:
        assert counted["writes"] == counted["writesInRequestLog"] > 0

    memory = figures["memory"]
    assert memory["idleKiB"] > 0 and memory["parkedKiB"] > 0
    assert memory["kibPerParkedMigration"] is not None  # may be anything on 4 migrations
    assert memory["verifyingRunning"] == memory["parked"]

    emulator = figures["emulator"]
    assert all(
        rate > 0 for rate in rates(emulator["putAppIntent"]) + rates(emulator["getDigStatus"])
    )

    fleet = figures["fleet"]
    evacuation = fleet["evacuation"]
    assert evacuation["errors"] == 0 and all(rate > 0 for rate in rates(evacuation))
    assert evacuation["p99Ms"] >= evacuation["p50Ms"] > 0  # each child's duration
    # A migration cannot be verified before the rollout delay has passed.
    assert fleet["singleMigrationP50Ms"] > fleet["rolloutDelaySeconds"] * 1000
    assert fleet["overheadP50Ms"] > 0
    assert fleet["idealSeconds"] > 0 and fleet["efficiency"] > 0
    assert fleet["firstChildSeconds"] >= 0 and fleet["windowFillSeconds"] >= 0
    assert fleet["emcoRequestsPerDig"] > 1
    assert fleet["emcoRequestsPerSecondMean"] > 0
    assert fleet["emcoRequestsPerSecondPeak1s"] > 0  # the smoke evacuation takes over 1 s
    for evacuated in fleet["rounds"]:
        counted = evacuated["emcoRequests"]
        assert counted["writes"] == counted["writesInRequestLog"] > 0

    polling = figures["polling"]
    assert polling["parked"] == 4
    designs = {v["design"]: v for v in polling["variants"]}
    assert set(designs) == {"a", "b1", "b2", "c"}
    for v in designs.values():
        # Every design polled EMCO while parked, noticed Ready after the release, and ended.
        assert v["pollsPerWorkflow"] > 0 and v["emcoRequestsPerSecond"] > 0
        assert v["cpuMsPerPoll"]["temporal"] > 0
        assert v["readySeenP50Ms"] > 0 and v["releaseAllMs"] >= v["releaseP50Ms"] > 0
        assert v["historyEvents"] > 0 and v["historyBytes"] > 0 and v["workflowTasks"] >= 2
        for parked in v["rounds"]:
            assert parked["emcoRequests"]["writes"] == 0  # polls only
    # The heartbeating activity holds a slot per parked workflow; a local activity none.
    assert designs["a"]["activitySlotsP50"] == 4
    assert designs["b2"]["activitySlotsMax"] == 0
    # The timer loop writes events per poll; the others' histories do not grow with polls.
    assert designs["b1"]["historyEvents"] > designs["a"]["historyEvents"]
    assert designs["c"]["historyEvents"] == designs["a"]["historyEvents"]
    http = figures["httpClient"]
    assert set(http["variants"]) == {"httpx-queue", "httpx-pool", "httpx-aiohttp", "aiohttp"}
    for variant in http["variants"].values():
        assert variant["errors"] == 0 and all(rate > 0 for rate in rates(variant))
        assert all(r["operations"] == http["requests"] for r in variant["rounds"])
        assert variant["p99Ms"] >= variant["p50Ms"] > 0
        # 30 requests may take less CPU than the clock's 10 ms tick: present, not > 0.
        assert variant["cpuMsPerOperation"]["client"] >= 0

    assert {t["target"] for t in figures["targets"]} >= {
        "start path b/a throughput",
        "start path b p99 / floor p99 at C=4",
        "migration throughput ours/floor",
        "EMCO requests per verified one-app migration",
        "evacuation efficiency at M=4, K=2",
        "single migration overhead ms p50 (wall - rollout delay)",
        "worker KiB per parked migration at K=4",
    }
