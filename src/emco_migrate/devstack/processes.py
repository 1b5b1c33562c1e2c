"""Child processes of the local stack: free ports, readiness waits, clean shutdown."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from emco_migrate.errors import UserError

_HANDED_OUT: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host`` and not handed out before by this
    process: ports are picked before their servers bind them, so without the memory two
    servers of one stack could be given the same port."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def port_accepts(host: str, port: int, timeout: float = 0.2) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(url: str) -> bool:
    """Whether GET ``url`` answers 200 right now."""
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def log_contains(path: Path, needle: str, after: int = 0) -> bool:
    """Whether ``needle`` is in the log file past byte ``after`` (logs are appended to)."""
    if not path.exists():
        return False
    with path.open("rb") as log:
        log.seek(after)
        return needle.encode() in log.read()


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    interval: float = 0.05,
    alive: Callable[[], str | None] | None = None,
) -> None:
    """Poll ``condition`` until true; raise `UserError` naming ``what`` on timeout.

    ``alive`` returns a reason when the thing we wait for has died, to fail at once.
    """
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        if alive is not None and (reason := alive()) is not None:
            raise UserError(f"{what} failed to start: {reason}")
        if time.monotonic() >= deadline:
            raise UserError(f"{what} did not become ready within {timeout:g}s")
        time.sleep(interval)


def find_executable(name: str, hint: str) -> Path:
    """An executable next to this Python (a venv's bin/) or on PATH."""
    sibling = Path(sys.executable).parent / name
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return sibling
    found = shutil.which(name)
    if found:
        return Path(found)
    raise UserError(f"{name!r} not found next to {sys.executable} or on PATH; {hint}")


def emco_migrate_command() -> list[str]:
    """The command that runs this package's CLI with the current interpreter."""
    return [sys.executable, "-m", "emco_migrate"]


@dataclass
class ManagedProcess:
    """A child process with a name, its log file and a clean stop."""

    name: str
    argv: Sequence[str]
    log_path: Path | None = None
    env: dict[str, str] | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _log: IO[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        """Start the process in its own process group, output to its log file."""
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            list(self.argv),
            stdout=self._log if self._log else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
            start_new_session=True,
        )

    def exit_reason(self) -> str | None:
        """None while running; otherwise why it ended, with the tail of its log."""
        if self.process is None or self.process.poll() is None:
            return None
        tail = self.log_tail()
        return f"exited with code {self.process.returncode}" + (f": {tail}" if tail else "")

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of the process log, joined on one line."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace").strip().splitlines()
        return " | ".join(line.strip() for line in text[-lines:])

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, wait up to ``grace`` seconds, then SIGKILL the whole group."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """SIGKILL at once (used to simulate a crash)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
