"""The local stack: Temporal dev server, EMCO emulator, worker and HTTP server, as processes."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from emco_migrate.cli_help import Variable
from emco_migrate.devstack.processes import (
    ManagedProcess,
    emco_migrate_command,
    free_port,
    http_ok,
    log_contains,
    port_accepts,
    wait_until,
)
from emco_migrate.devstack.temporal_dev import TemporalDevServer
from emco_migrate.emcomigrate.names import TASK_QUEUE
from emco_migrate.errors import UserError

HOST = "127.0.0.1"
# How the processes of the stack see the environment of the command that starts them (`_env`).
ENVIRONMENT = (
    Variable(("EMCO_MIGRATE_*",), "passed on to the worker, HTTP server and emulator it starts"),
    Variable(("TEMPORAL_*",), "ignored: its processes use its own Temporal dev server"),
)
STARTUP_TIMEOUT = 60.0


@dataclass(frozen=True)
class StackPorts:
    """The TCP ports of the stack's services (0 for the UI means no UI)."""

    temporal: int
    temporal_ui: int
    emco: int
    http_server: int

    @classmethod
    def fixed(cls) -> StackPorts:
        """The well-known ports the samples' values-local.yaml expects."""
        return cls(temporal=7233, temporal_ui=8233, emco=9015, http_server=9090)

    @classmethod
    def free(cls, ui: bool = True) -> StackPorts:
        """Ports that are free right now."""
        return cls(
            temporal=free_port(),
            temporal_ui=free_port() if ui else 0,
            emco=free_port(),
            http_server=free_port(),
        )


@dataclass
class LocalStack:
    """Starts and stops the four processes; logs go to ``state_dir/logs``."""

    state_dir: Path
    ports: StackPorts
    ready_delay: float = 1.0
    persistent: bool = False
    # Passed to the worker and the HTTP server, so neither reads EMCO_MIGRATE_TASK_QUEUE.
    task_queue: str = TASK_QUEUE
    temporal: TemporalDevServer | None = field(default=None, init=False)
    processes: list[ManagedProcess] = field(default_factory=list, init=False)

    @property
    def temporal_address(self) -> str:
        return f"{HOST}:{self.ports.temporal}"

    @property
    def temporal_ui(self) -> str | None:
        return f"http://{HOST}:{self.ports.temporal_ui}" if self.ports.temporal_ui else None

    @property
    def emco_url(self) -> str:
        return f"http://{HOST}:{self.ports.emco}"

    @property
    def http_server_url(self) -> str:
        return f"http://{HOST}:{self.ports.http_server}"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
        env["TEMPORAL_ADDRESS"] = self.temporal_address
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _spawn(self, name: str, *args: str) -> ManagedProcess:
        process = ManagedProcess(
            name, [*emco_migrate_command(), *args], log_path=self.log_dir / f"{name}.log",
            env=self._env(),
        )  # fmt: skip
        process.start()
        self.processes.append(process)
        return process

    def start(self) -> LocalStack:
        """Start everything and wait until each part is ready; on failure stop what started."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for service, port in (
            ("Temporal", self.ports.temporal),
            ("Temporal UI", self.ports.temporal_ui),
            ("EMCO emulator", self.ports.emco),
            ("HTTP server", self.ports.http_server),
        ):
            if port and port_accepts(HOST, port):
                raise UserError(f"port {port} for the {service} is already in use on {HOST}")
        try:
            self.temporal = TemporalDevServer(
                log_path=self.log_dir / "temporal.log",
                ui=bool(self.ports.temporal_ui),
                ui_port=self.ports.temporal_ui,
                port=self.ports.temporal,
                db_path=self.state_dir / "temporal.db" if self.persistent else None,
                host=HOST,
            ).start()
            db = str(self.state_dir / "emco.db") if self.persistent else ":memory:"
            emulator = self._spawn(
                "emco-sim", "emco-sim", "--host", HOST, "--port", str(self.ports.emco),
                "--db", db, "--ready-delay", str(self.ready_delay),
            )  # fmt: skip
            worker = self._spawn("worker", "worker", "--task-queue", self.task_queue)
            server = self._spawn(
                "http-server", "http-server", "--host", HOST, "--port", str(self.ports.http_server),
                "--task-queue", self.task_queue,
            )  # fmt: skip
            wait_until(
                lambda: http_ok(f"{self.emco_url}/emulator/v1/healthz"),
                timeout=STARTUP_TIMEOUT, what=f"EMCO emulator on {self.emco_url}",
                alive=emulator.exit_reason,
            )  # fmt: skip
            wait_until(
                lambda: log_contains(self.log_dir / "worker.log", f"polling {self.task_queue} "),
                timeout=STARTUP_TIMEOUT, what="worker", alive=worker.exit_reason,
            )  # fmt: skip
            wait_until(
                lambda: http_ok(f"{self.http_server_url}/readyz"),
                timeout=STARTUP_TIMEOUT, what=f"HTTP server on {self.http_server_url}",
                alive=server.exit_reason,
            )  # fmt: skip
        except BaseException:
            self.stop()
            raise
        return self

    def process(self, name: str) -> ManagedProcess:
        """The managed process called ``name`` (emco-sim, worker, http-server)."""
        for process in self.processes:
            if process.name == name:
                return process
        raise KeyError(name)

    def dead(self) -> str | None:
        """A reason when one of the processes has exited, else None."""
        for process in self.processes:
            reason = process.exit_reason()
            if reason is not None:
                return f"{process.name} {reason}"
        return None

    def stop(self) -> None:
        """Stop the processes in reverse order, then Temporal."""
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        if self.temporal is not None:
            self.temporal.stop()
            self.temporal = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
