"""`emco-migrate worker --metrics-port/--metrics-host` as a real process: where metrics listen,
and one line with exit 4 when the port is taken."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from emco_migrate.devstack.processes import free_port, port_accepts
from emco_migrate.devstack.temporal_dev import TemporalDevServer
from emco_migrate.errors import AddressInUse
from emco_migrate.worker import main as worker_main
from support import waiting
from support.stack import new_task_queue


def worker_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "EMCO_"))}
    env.update(extra)
    return env


def run_worker(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emco_migrate", "worker", *args],
        env=worker_env(**env),
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something listens on, on every IPv4 interface."""
    with socket.create_server(("0.0.0.0", 0)) as sock:
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("host", [None, "127.0.0.1", "0.0.0.0"])
def test_a_busy_metrics_port_is_exit_4_and_one_line(busy_port: int, host: str | None) -> None:
    flags = ["--metrics-host", host] if host else []
    # Temporal is not reached: the port is checked first.
    result = run_worker(
        "--metrics-port", str(busy_port), *flags, "--address", f"127.0.0.1:{free_port()}"
    )
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"emco-migrate worker: error: address {host or '127.0.0.1'}:{busy_port} is in use "
        "(--metrics-port): stop what listens there or choose another port"
    ]


def test_metrics_host_from_the_environment(busy_port: int) -> None:
    result = run_worker(
        "--metrics-port", str(busy_port), "--address", f"127.0.0.1:{free_port()}",
        EMCO_MIGRATE_METRICS_HOST="0.0.0.0",
    )  # fmt: skip
    assert result.returncode == 4
    assert f"address 0.0.0.0:{busy_port} is in use" in result.stderr


def test_a_metrics_host_that_is_not_an_ip_address_is_one_line() -> None:
    result = run_worker("--metrics-port", "9464", "--metrics-host", "metrics.example")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "emco-migrate worker: error: --metrics-host 'metrics.example' is not an IP address "
        "(e.g. 127.0.0.1, 0.0.0.0)"
    ]


def test_the_runtime_losing_the_port_race_is_address_in_use(
    busy_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the port is taken between our check and the runtime's bind, the same error."""

    def no_check(*_: object, **__: object) -> socket.socket:
        return socket.socket()

    monkeypatch.setattr(socket, "create_server", no_check)
    with pytest.raises(AddressInUse) as caught:
        worker_main.metrics_runtime("127.0.0.1", busy_port)
    assert caught.value.exit_code == 4
    assert f"address 127.0.0.1:{busy_port} is in use" in str(caught.value)


def loopback_alias_reaches_wildcard() -> bool:
    """Whether 127.0.0.2 reaches a 0.0.0.0 listener here (Linux: all of 127/8 is loopback)."""
    with socket.create_server(("0.0.0.0", 0)) as sock:
        return port_accepts("127.0.0.2", int(sock.getsockname()[1]))


@contextlib.contextmanager
def serve_metrics(temporal: TemporalDevServer, *args: str) -> Iterator[int]:
    """Start a worker with metrics on a free port, polling a task queue of its own (it
    must take no other test's tasks); yield the port once it polls."""
    port, queue = free_port(), new_task_queue()
    command = [sys.executable, "-m", "emco_migrate", "worker", "--task-queue", queue]
    with subprocess.Popen(  # leaving the block closes the pipe
        [*command, "--metrics-port", str(port), *args],
        env=worker_env(TEMPORAL_ADDRESS=temporal.address),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        try:
            waiting.wait_for_line(proc, f"polling {queue} ", within=30)
            yield port
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.mark.skipif(not loopback_alias_reaches_wildcard(), reason="needs 127.0.0.2 on loopback")
def test_metrics_listen_on_loopback_only_by_default(temporal_server: TemporalDevServer) -> None:
    with serve_metrics(temporal_server) as port:
        assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 200
        assert not port_accepts("127.0.0.2", port)  # another address of this host


@pytest.mark.skipif(not loopback_alias_reaches_wildcard(), reason="needs 127.0.0.2 on loopback")
def test_metrics_host_all_interfaces(temporal_server: TemporalDevServer) -> None:
    with serve_metrics(temporal_server, "--metrics-host", "0.0.0.0") as port:
        assert httpx.get(f"http://127.0.0.2:{port}/metrics", timeout=5).status_code == 200
