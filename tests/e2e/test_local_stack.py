"""The one-command demo, and `emco-migrate up` driven by hand with the sample files."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import httpx
import pytest

from emco_migrate.devstack.processes import port_accepts
from emco_migrate.devstack.stack import StackPorts
from support.waiting import poll

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
INTENTS = ROOT / "samples" / "intents"


def clean_env() -> dict[str, str]:
    # The stack runs its own Temporal dev server, so it keeps the production default queue,
    # MIGRATION_TASK_Q (which is what the samples and `up` print): no other test's worker
    # can take its tasks.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def emco_migrate(*args: str, cwd: Path = ROOT, check: bool = True) -> str:
    """Run the CLI as a user would; its stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "emco_migrate", *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"emco-migrate {' '.join(args)}: {result.stderr}{result.stdout}")
    return result.stdout


def test_demo_round_trip_exits_zero_and_leaves_nothing_running() -> None:
    # How fast it is belongs to the benchmark; the subprocess timeout only stops a hang.
    result = subprocess.run(
        [sys.executable, "-m", "emco_migrate", "demo", "--round-trip", "--ready-delay", "0.3"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    out = result.stdout
    assert "placement before: app intent allOf provider1/cluster1" in out
    assert "placement after: app intent allOf provider2/cluster2" in out
    assert "current-state: VerifyMigration" in out
    assert "workflowQueryResult='completed'" in out
    assert "placement after the round trip: app intent allOf provider1/cluster1" in out
    assert re.search(r"Web UI http://127\.0\.0\.1:\d+", out)
    ports = [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", out.split("stack ready:")[1][:300])]
    assert len(ports) == 4
    assert not any(port_accepts("127.0.0.1", port) for port in ports)


def test_demo_evacuate_moves_the_fleet_off_cluster1_and_back() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emco_migrate", "demo", "--evacuate", "--ready-delay", "0.3"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    out = result.stdout
    assert "seeded 26 DIGs in edge-east and edge-west: 21 on provider1/cluster1" in out
    after = out.split("after the evacuation: ")[1].splitlines()[0]
    assert "provider1/cluster1" not in after
    assert "completed: 21 moved, 0 in flight, 0 pending" in out
    assert "every DIG is back where it started (21 moved back)" in out


class Up:
    """`emco-migrate up` as a background process, its output collected."""

    def __init__(self, state_dir: Path) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emco_migrate", "up", "--state-dir", str(state_dir),
             "--ready-delay", "0.3"],
            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, needle: str, within: float = 60) -> None:
        def printed() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"`up` exited early: {''.join(self.lines)}")
            return any(needle in line for line in self.lines)

        poll(printed, timeout=within, what=f"`up` to print {needle!r}")

    def close(self) -> None:
        """Kill the process if it still runs; read its output to the end and close it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._reader.join(timeout=30)  # the pipe ends with the process (and its children)
        if self.process.stdout is not None and not self._reader.is_alive():
            self.process.stdout.close()


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    ports = StackPorts.fixed()
    fixed = (ports.temporal, ports.emco, ports.http_server)
    busy = [p for p in fixed if port_accepts("127.0.0.1", p)]
    if busy:
        pytest.fail(f"the fixed ports {busy} of `emco-migrate up` are in use on this machine")
    running = Up(tmp_path)
    yield running
    running.close()


def apply(name: str) -> str:
    return emco_migrate(
        "emcoctl", "--config", "emco-cfg-local.yaml", "apply", "-s", "-v", "values-local.yaml",
        "-f", name, cwd=INTENTS,
    )  # fmt: skip


def current_state(workflow_id: str) -> str:
    status = json.loads(emco_migrate("status", workflow_id, "--query", "current-state"))
    return str(status["workflowQueryResult"])


def wait_state(workflow_id: str, wanted: str, within: float = 60) -> None:
    poll(
        lambda: current_state(workflow_id) == wanted,
        timeout=within,
        what=f"{workflow_id} to be {wanted!r}",
    )


def where_is_the_app() -> dict[str, list[str]]:
    clusters = httpx.get("http://127.0.0.1:9015/emulator/v1/clusters", timeout=10).json()
    return {
        f"{c['clusterProvider']}/{c['cluster']}": sorted(r["state"] for r in c["resources"])
        for c in clusters
        if c["resources"]
    }


def test_up_and_the_seed_flow_by_hand(up: Up) -> None:
    up.wait_for("Local stack is up")
    subprocess.run([sys.executable, "-m", "emco_migrate.emcoctl.samples"], check=True, cwd=ROOT)
    for name in ("00.define-clusters-proj.yaml", "01.instantiate-lc.yaml",
                 "02.define-app-dig.yaml", "03.instantiate-dig.yaml",
                 "04.define-workflow-1.yaml", "05.start-workflow.yaml"):  # fmt: skip
        apply(name)
    poll(
        lambda: "completed" in emco_migrate(
            "emcoctl", "--config", "emco-cfg-local.yaml", "get", "-v", "values-local.yaml",
            "-f", "06.get-workflow-status.yaml", cwd=INTENTS,
        ),
        timeout=60, what="06 to report completed",
    )  # fmt: skip
    assert where_is_the_app() == {"provider2/cluster2": ["Ready", "Ready"]}
    progress = json.loads(emco_migrate("status", "migrate-to-cluster2", "--query", "progress"))
    assert progress["workflowQueryResult"]["phase"] == "completed"

    # define-workflow-2 brings it back
    apply("define-workflow-2.yaml")
    apply("start-workflow-2.yaml")
    wait_state("migrate-to-cluster1", "completed")
    assert where_is_the_app() == {"provider1/cluster1": ["Ready", "Ready"]}

    # 07 cancels a running migration, which puts everything back
    httpx.put(
        "http://127.0.0.1:9015/emulator/v1/clusters/provider2/cluster2",
        json={"neverReady": True},
        timeout=10,
    ).raise_for_status()
    apply("05.start-workflow.yaml")
    wait_state("migrate-to-cluster2", "VerifyMigration")
    apply("07.cancel-workflow.yaml")

    def phase() -> str:
        status = emco_migrate("status", "migrate-to-cluster2", "--describe", "--query", "progress")
        return str(json.loads(status)["workflowQueryResult"]["phase"])

    poll(lambda: phase() == "cancelled", timeout=60, what="the cancelled migration's rollback")
    assert where_is_the_app() == {"provider1/cluster1": ["Ready", "Ready"]}

    assert cast(object, up.process.send_signal(signal.SIGINT)) is None
    assert up.process.wait(timeout=30) == 0
    ports = StackPorts.fixed()
    assert not any(
        port_accepts("127.0.0.1", p) for p in (ports.temporal, ports.emco, ports.http_server)
    )
