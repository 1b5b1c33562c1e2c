"""`emco-migrate worker` as a real process: start, drain on signals, clear start errors."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client

from emco_migrate import cli
from emco_migrate.devstack.processes import free_port
from emco_migrate.devstack.temporal_dev import TemporalDevServer
from emco_migrate.emcomigrate import search_attributes
from emco_migrate.worker import main as worker_main
from emco_migrate.worker.main import WorkerSettings
from support import waiting
from support.stack import new_task_queue


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
    return waiting.wait_for_line(proc, needle, within=within)


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
    queue = new_task_queue()  # of its own: this worker must take no other test's tasks
    env = worker_env(TEMPORAL_ADDRESS=temporal_server.address)
    # Leaving the block closes the pipes and reaps the process.
    with start_worker(env, "--drain-timeout", "5", "--task-queue", queue) as proc:
        try:
            line = wait_for_line(proc, f"polling {queue} ")
            assert temporal_server.address in line
            proc.send_signal(sig)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


@pytest.mark.parametrize(
    ("args", "env", "error"),
    [
        (["--drain-timeout", "-1"], {}, "--drain-timeout must not be negative"),
        (["--emco-max-in-flight", "0"], {}, "--emco-max-in-flight must be at least 1"),
        (
            [],
            {"EMCO_MIGRATE_EMCO_REQUESTS_PER_SECOND": "-5"},
            "--emco-requests-per-second must be between 0 (no limit) and 1000000",
        ),
    ],
)
def test_bad_flags_are_one_line_errors(args: list[str], env: dict[str, str], error: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emco_migrate", "worker", *args],
        env=worker_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"emco-migrate worker: error: {error}"


@pytest.mark.parametrize(
    ("args", "env", "error"),
    [
        (["--task-queue", ""], {}, "--task-queue must not be empty (default: MIGRATION_TASK_Q)"),
        (
            ["--task-queue", "q" * 256],
            {},
            "--task-queue is 256 characters long (at most 255)",
        ),
        (
            [],
            {"EMCO_MIGRATE_TASK_QUEUE": "tab\there"},
            "EMCO_MIGRATE_TASK_QUEUE 'tab\\there' is not printable (it has control characters)",
        ),
        ([], {"EMCO_MIGRATE_TASK_QUEUE": ""}, "EMCO_MIGRATE_TASK_QUEUE must not be empty"),
    ],
)
def test_a_bad_task_queue_is_one_line_and_exit_1(
    args: list[str], env: dict[str, str], error: str
) -> None:
    # Refused before connecting: the unreachable address is never tried.
    result = subprocess.run(
        [sys.executable, "-m", "emco_migrate", "worker", *args],
        env=worker_env(TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"emco-migrate worker: error: {error}"), line


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        # The production default: MIGRATION_TASK_Q, the contract's queue.
        ([], {}, "MIGRATION_TASK_Q"),
        ([], {"EMCO_MIGRATE_TASK_QUEUE": "from-env"}, "from-env"),
        (["--task-queue", "from-flag"], {"EMCO_MIGRATE_TASK_QUEUE": "from-env"}, "from-flag"),
    ],
)
def test_the_task_queue_comes_from_the_flag_then_the_environment_then_the_default(
    monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str], expected: str
) -> None:
    served: list[WorkerSettings] = []

    async def serve(settings: WorkerSettings) -> None:
        served.append(settings)

    monkeypatch.setattr(worker_main, "serve", serve)
    monkeypatch.delenv("EMCO_MIGRATE_TASK_QUEUE", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["worker", *args]) == 0
    assert [s.task_queue for s in served] == [expected]


async def test_a_namespace_without_the_search_attributes_is_refused_with_the_fix(
    temporal_server: TemporalDevServer,
) -> None:
    namespace = f"bare-{uuid.uuid4().hex[:8]}"
    client = await Client.connect(temporal_server.address)
    await client.workflow_service.register_namespace(
        RegisterNamespaceRequest(
            namespace=namespace, workflow_execution_retention_period=Duration(seconds=86400)
        )
    )
    env = worker_env(TEMPORAL_ADDRESS=temporal_server.address, TEMPORAL_NAMESPACE=namespace)
    seen: list[str] = []

    def refused() -> bool:
        # A new namespace takes a moment to be known to every part of the server.
        result = subprocess.run(
            [sys.executable, "-m", "emco_migrate", "worker", "--task-queue", new_task_queue()],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        seen[:] = [str(result.returncode), *result.stderr.strip().splitlines()]
        return "lacks the search attributes" in result.stderr

    await asyncio.to_thread(waiting.poll, refused, timeout=30, what="the refusal")
    code, *lines = seen
    assert code == "1"
    missing = ", ".join(key.name for key in search_attributes.ALL)
    assert lines == [
        f"emco-migrate worker: error: namespace {namespace} lacks the search attributes the "
        f"workflows set ({missing}); register them once with: "
        + " && ".join(search_attributes.create_commands(namespace))
    ]
