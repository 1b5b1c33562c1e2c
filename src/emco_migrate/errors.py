"""Errors shared by every entry point."""

from __future__ import annotations

import os
from pathlib import Path


class UserError(Exception):
    """A failure the user can fix; the CLI prints it as one line and exits non-zero."""

    exit_code = 1

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class TemporalUnreachable(UserError):
    """Temporal could not be reached or refused the connection."""

    exit_code = 3


class AddressInUse(UserError):
    """A port we were asked to listen on is taken: ``address 127.0.0.1:9090 is in use``."""

    exit_code = 4

    def __init__(self, host: str, port: int, what: str = "") -> None:
        super().__init__(
            f"address {host}:{port} is in use{f' ({what})' if what else ''}: "
            "stop what listens there or choose another port"
        )
        self.host = host
        self.port = port


def os_reason(err: OSError) -> str:
    """The operating system's words for ``err`` ("permission denied"), lower case."""
    return os.strerror(err.errno).lower() if err.errno else str(err)


def why_not_created(directory: Path, err: OSError) -> str:
    """Why ``directory`` could not be created: a file in its way, or the OS's reason."""
    for ancestor in (directory, *directory.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                return f"{ancestor} is not a directory"
            break
    return f"{os_reason(err)} ({err.filename or directory})"
