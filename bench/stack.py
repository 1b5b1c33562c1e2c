"""The benchmark's process tree: Temporal dev server, emulator, workers and HTTP servers.

Everything listens on loopback on free ports and logs to ``state_dir/logs``:

* ``temporal``: `temporal server start-dev` (in memory), with the extra namespace
  ``bench-start`` where scenario 1's workflows are started and never run;
* ``emco-sim``: the EMCO emulator (``python -m bench.emco_sim``: `emco-migrate emco-sim` with
  a request meter in front), state in memory, rollout delay 0 (scenario 5 sets its own);
* ``bench-worker``: ``python -m bench.worker``, the worker `emco-migrate worker` builds
  plus the floor workflow of scenario 2 (so both run on the same worker) and scenario 7's
  polling designs, with its Prometheus endpoint on (as the Helm chart runs the worker), from
  which scenario 7 reads the task slots in use;
* ``http-server``: `emco-migrate http-server` on namespace ``default`` (scenario 2);
* ``http-server-start``: the same server on ``bench-start`` with ``--exec-dir``, where
  ``migrate_workflowclient_exec`` is the ``migrate_workflowclient`` console script
  (scenario 1: ``migrate_workflowclient`` in-process, ``..._exec`` one process per start);
* ``worker`` (scenario 3 only): the real `emco-migrate worker`, measured alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from bench.worker import METRICS_PORT_VARIABLE
from emco_migrate.devstack.processes import (
    ManagedProcess,
    emco_migrate_command,
    find_executable,
    free_port,
    http_ok,
    log_contains,
    wait_until,
)
from emco_migrate.devstack.temporal_dev import TemporalDevServer
from emco_migrate.emcomigrate.names import MIGRATE_WORKFLOW_CLIENT

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]
START_NAMESPACE = "bench-start"
EXEC_CLIENT = f"{MIGRATE_WORKFLOW_CLIENT}_exec"
STARTUP_TIMEOUT = 60.0
WORKER_READY_LINE = "polling MIGRATION_TASK_Q"


def _log_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


@dataclass
class BenchStack:
    """Starts, watches and stops the processes; ``with BenchStack(dir) as stack: ...``."""

    state_dir: Path
    temporal: TemporalDevServer | None = field(default=None, init=False)
    processes: dict[str, ManagedProcess] = field(default_factory=dict, init=False)
    emco_port: int = field(default_factory=lambda: free_port(HOST), init=False)
    invoke_port: int = field(default_factory=lambda: free_port(HOST), init=False)
    start_port: int = field(default_factory=lambda: free_port(HOST), init=False)
    worker_metrics_port: int = field(default_factory=lambda: free_port(HOST), init=False)
    _log_offsets: dict[str, int] = field(default_factory=dict, init=False)

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def temporal_address(self) -> str:
        assert self.temporal is not None, "stack not started"
        return self.temporal.address

    @property
    def emco_url(self) -> str:
        return f"http://{HOST}:{self.emco_port}"

    @property
    def invoke_url(self) -> str:
        """The HTTP server on namespace ``default`` (where the workers poll)."""
        return f"http://{HOST}:{self.invoke_port}"

    @property
    def worker_metrics_url(self) -> str:
        """The bench worker's Prometheus metrics."""
        return f"http://{HOST}:{self.worker_metrics_port}/metrics"

    @property
    def start_url(self) -> str:
        """The HTTP server on ``bench-start`` (no worker), with the exec-dir client."""
        return f"http://{HOST}:{self.start_port}"

    def env(self, namespace: str | None = None) -> dict[str, str]:
        """The children's environment: this stack's Temporal (once it runs), nothing
        inherited from ours."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
        if self.temporal is not None:
            env["TEMPORAL_ADDRESS"] = self.temporal_address
        if namespace:
            env["TEMPORAL_NAMESPACE"] = namespace
        env["PYTHONUNBUFFERED"] = "1"
        # Bytecode as an installed package has it: the sandbox re-imports the workflow module
        # for every run, and without a valid .pyc that means compiling it every time.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(self.state_dir / "pycache")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        return env

    def _spawn(
        self,
        name: str,
        argv: list[str],
        namespace: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> ManagedProcess:
        log_path = self.log_dir / f"{name}.log"
        self._log_offsets[name] = _log_size(log_path)
        env = self.env(namespace) | (extra_env or {})
        process = ManagedProcess(name, argv, log_path=log_path, env=env)
        process.start()
        self.processes[name] = process
        return process

    def start(self) -> BenchStack:
        """Start everything and wait until each part answers; on failure stop it all."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        cli = emco_migrate_command()
        try:
            self._spawn(
                "emco-sim",
                [sys.executable, "-m", "bench.emco_sim", "--host", HOST,
                 "--port", str(self.emco_port), "--db", ":memory:", "--ready-delay", "0"],
            )  # fmt: skip
            self.temporal = TemporalDevServer(
                log_path=self.log_dir / "temporal.log", host=HOST
            ).start()
            asyncio.run(register_namespace(self.temporal_address, START_NAMESPACE))
            exec_dir = self.state_dir / "clients"
            exec_dir.mkdir(exist_ok=True)
            (exec_dir / EXEC_CLIENT).symlink_to(
                find_executable(MIGRATE_WORKFLOW_CLIENT, "install emco-migrate into this venv")
            )
            self.start_bench_worker()
            self._spawn(
                "http-server",
                [*cli, "http-server", "--host", HOST, "--port", str(self.invoke_port)],
            )
            self._spawn(
                "http-server-start",
                [*cli, "http-server", "--host", HOST, "--port", str(self.start_port),
                 "--exec-dir", str(exec_dir)],
                namespace=START_NAMESPACE,
            )  # fmt: skip
            self._wait_http("emco-sim", f"{self.emco_url}/emulator/v1/healthz")
            self.wait_worker("bench-worker")
            self._wait_http("http-server", f"{self.invoke_url}/readyz")
            self._wait_http("http-server-start", f"{self.start_url}/readyz")
        except BaseException:
            self.stop()
            raise
        return self

    def start_bench_worker(self) -> None:
        """``python -m bench.worker`` (migrations, the floor and the polling workflows)."""
        self._spawn(
            "bench-worker",
            [sys.executable, "-m", "bench.worker"],
            extra_env={METRICS_PORT_VARIABLE: str(self.worker_metrics_port)},
        )

    def start_product_worker(self) -> ManagedProcess:
        """The real `emco-migrate worker`, ready to poll."""
        process = self._spawn("worker", [*emco_migrate_command(), "worker"])
        self.wait_worker("worker")
        return process

    def stop_process(self, name: str) -> None:
        """Stop one child (SIGTERM, then SIGKILL after the grace period)."""
        process = self.processes.pop(name, None)
        if process is not None:
            process.stop()

    def _wait_http(self, name: str, url: str) -> None:
        wait_until(
            lambda: http_ok(url),
            timeout=STARTUP_TIMEOUT,
            what=f"{name} on {url}",
            alive=self.processes[name].exit_reason,
        )

    def wait_worker(self, name: str) -> None:
        """Wait until the worker says it polls the task queue."""
        log_path = self.log_dir / f"{name}.log"
        offset = self._log_offsets.get(name, 0)
        wait_until(
            lambda: log_contains(log_path, WORKER_READY_LINE, offset),
            timeout=STARTUP_TIMEOUT,
            what=name,
            alive=self.processes[name].exit_reason,
        )

    def pid(self, name: str) -> int:
        """The process id of a running child."""
        process = self.processes[name].process
        assert process is not None
        return process.pid

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by each part (with the children it has reaped, such as
        the exec-dir clients), by Temporal, and by this process (``bench``)."""
        processes = {name: self.pid(name) for name in self.processes}
        for child in psutil.Process().children():
            with contextlib.suppress(psutil.Error):
                if child.cmdline()[1:3] == ["server", "start-dev"]:
                    processes["temporal"] = child.pid
        processes["bench"] = os.getpid()
        used = {}
        for name, pid in processes.items():
            with contextlib.suppress(psutil.Error):
                t = psutil.Process(pid).cpu_times()
                used[name] = t.user + t.system + t.children_user + t.children_system
        return used

    def dead(self) -> str | None:
        """Why a child has exited, if one has."""
        for name, process in self.processes.items():
            reason = process.exit_reason()
            if reason is not None:
                return f"{name} {reason}"
        return None

    def stop(self) -> None:
        """Stop every child, then Temporal."""
        for name in reversed(list(self.processes)):
            self.stop_process(name)
        if self.temporal is not None:
            self.temporal.stop()
            self.temporal = None

    def __enter__(self) -> BenchStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def register_namespace(address: str, namespace: str, timeout: float = 30.0) -> None:
    """Register ``namespace`` and wait until the frontend accepts calls on it.

    The dev server's port opens before its frontend is healthy, so connecting is retried too.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            client = await Client.connect(address)
            break
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
    try:
        await client.workflow_service.register_namespace(
            RegisterNamespaceRequest(
                namespace=namespace,
                workflow_execution_retention_period=Duration(seconds=24 * 3600),
            )
        )
    except RPCError as err:
        if err.status is not RPCStatusCode.ALREADY_EXISTS:
            raise
    scoped = await Client.connect(address, namespace=namespace)
    while True:
        try:
            await scoped.list_workflows(page_size=1).fetch_next_page()
            return
        except RPCError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
