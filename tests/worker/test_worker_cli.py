"""`emco-migrate worker` as a real process: start, drain on signals, clear start errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from emco_migrate.devstack.processes import free_port
from emco_migrate.devstack.temporal_dev import TemporalDevServer


def worker_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    env.update(extra)
    return env


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "emco_migrate", "worker", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(proc: subprocess.Popen[str], needle: str, within: float = 30.0) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if needle in line:
            return line
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"worker never printed {needle!r}")


def test_unreachable_temporal_is_one_clear_line() -> None:
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "emco_migrate", "worker"],
        env=worker_env(TEMPORAL_ADDRESS=f"127.0.0.1:{port}"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"emco-migrate worker: error: cannot reach Temporal at 127.0.0.1:{port} "
        "(namespace default): connection refused"
    ]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_drains_and_exits_zero(
    temporal_server: TemporalDevServer, sig: signal.Signals
) -> None:
    proc = start_worker(
        worker_env(TEMPORAL_ADDRESS=temporal_server.address), "--drain-timeout", "5"
    )
    try:
        line = wait_for_line(proc, "polling MIGRATION_TASK_Q")
        assert temporal_server.address in line
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_bad_flags_are_one_line_errors() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emco_migrate", "worker", "--drain-timeout", "-1"],
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "emco-migrate worker: error: --drain-timeout must not be negative"
    )
