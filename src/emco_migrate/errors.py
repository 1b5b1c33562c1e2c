"""Errors shared by every entry point."""

from __future__ import annotations


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
