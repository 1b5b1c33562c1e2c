"""Workflow clients run as executables, the way the Go HTTP server ran them.

For ``/invoke/{name}`` with no in-process client, ``DIR/<name>`` is run as
``DIR/<name> -a <file>`` where the file holds the request body unchanged. The run is
bounded in time; on timeout the client's whole process group is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path

from emco_migrate.workflowclients.registry import is_valid_client_name

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 60.0
KILL_GRACE_SECONDS = 5.0
MAX_LOGGED_OUTPUT = 8192


class ExecClientFailed(Exception):
    """The client ran but exited non-zero (or could not be run at all)."""

    def __init__(self, name: str, exit_code: int | None, reason: str) -> None:
        super().__init__(f"workflow client {name!r} {reason}")
        self.name = name
        self.exit_code = exit_code


class ExecClientTimedOut(Exception):
    """The client did not exit within the time limit and was killed."""

    def __init__(self, name: str, timeout: float) -> None:
        super().__init__(f"workflow client {name!r} did not finish within {timeout:g}s")
        self.name = name
        self.timeout = timeout


@dataclass(frozen=True)
class ExecDirectory:
    """A directory of workflow client executables."""

    path: Path
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    def find(self, name: str) -> Path | None:
        """``DIR/<name>`` when it is an executable file (``name`` must be a valid name)."""
        if not is_valid_client_name(name):
            return None
        candidate = self.path / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
        return None

    async def run(self, name: str, executable: Path, body: bytes) -> None:
        """Run ``executable -a <file with body>``; raise unless it exits 0 in time."""
        spec_file = await asyncio.to_thread(_write_temp, body, name)
        try:
            await self._run(name, executable, spec_file)
        finally:
            await asyncio.to_thread(spec_file.unlink, True)

    async def _run(self, name: str, executable: Path, spec_file: Path) -> None:
        try:
            process = await asyncio.create_subprocess_exec(
                str(executable),
                "-a",
                str(spec_file),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # its own group, so a timeout kills its children too
            )
        except OSError as err:
            raise ExecClientFailed(name, None, f"could not be run: {err.strerror or err}") from err
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), self.timeout)
        except TimeoutError:
            await _kill_group(process)
            log.error("workflow client %s timed out after %gs and was killed", name, self.timeout)
            raise ExecClientTimedOut(name, self.timeout) from None
        _log_output(name, "stdout", stdout)
        _log_output(name, "stderr", stderr)
        code = process.returncode
        if code != 0:
            raise ExecClientFailed(name, code, f"exited with code {code}")
        log.info("workflow client %s exited with code 0", name)


def _write_temp(body: bytes, name: str) -> Path:
    fd, path = tempfile.mkstemp(prefix=f"{name}-", suffix=".json")
    with os.fdopen(fd, "wb") as out:
        out.write(body)
    return Path(path)


async def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(TimeoutError):
        # Reap the child and drain its pipes; the grace bounds a grandchild that escaped.
        await asyncio.wait_for(process.communicate(), KILL_GRACE_SECONDS)


def _log_output(name: str, stream: str, data: bytes) -> None:
    text = data.decode("utf-8", errors="replace").strip()
    if text:
        if len(text) > MAX_LOGGED_OUTPUT:
            text = text[:MAX_LOGGED_OUTPUT] + " ...(truncated)"
        log.info("workflow client %s %s: %s", name, stream, text)
