"""The request log: every write that reached the emulator's EMCO API, and what became of it."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from emco_migrate.emcosim.store.db import Tx
from emco_migrate.emcosim.store.faults import path_matches

# Oldest entries are dropped beyond this, so a long-running emulator's file stays small; a test
# clears the log after itself and writes far fewer.
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class LoggedRequest:
    """One request: when it arrived, when EMCO applied it (None: not, or not yet), the answer."""

    id: int
    method: str
    path: str
    arrived_at: float
    applied_at: float | None
    status: int | None  # EMCO's answer, or an error fault's status (then never applied)
    fault_id: int | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> LoggedRequest:
        return cls(
            id=row["id"],
            method=row["method"],
            path=row["path"],
            arrived_at=row["arrived_at"],
            applied_at=row["applied_at"],
            status=row["status"],
            fault_id=row["fault_id"],
        )


class RequestLog:
    """The `requests` table."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    def arrived(
        self,
        method: str,
        path: str,
        at: float,
        *,
        fault_id: int | None = None,
        status: int | None = None,
    ) -> int:
        """Record an arrival; its id for `applied`."""
        cursor = self.tx.execute(
            "INSERT INTO requests (method, path, arrived_at, status, fault_id)"
            " VALUES (?, ?, ?, ?, ?)",
            (method, path, at, status, fault_id),
        )
        entry = int(cursor.lastrowid or 0)
        self.tx.execute("DELETE FROM requests WHERE id <= ?", (entry - MAX_ENTRIES,))
        return entry

    def applied(self, entry: int, at: float, status: int) -> None:
        """Record when a request was applied to EMCO and what EMCO answered."""
        self.tx.execute(
            "UPDATE requests SET applied_at = ?, status = ? WHERE id = ?", (at, status, entry)
        )

    def all(self, method: str | None = None, path_regex: str | None = None) -> list[LoggedRequest]:
        """Entries in arrival order, optionally only one method and paths matching a regex."""
        if method is None:
            rows = self.tx.execute("SELECT * FROM requests ORDER BY id").fetchall()
        else:
            rows = self.tx.execute(
                "SELECT * FROM requests WHERE method = ? ORDER BY id", (method,)
            ).fetchall()
        return [
            LoggedRequest.from_row(r)
            for r in rows
            if path_regex is None or path_matches(path_regex, r["path"])
        ]

    def clear(self) -> None:
        """Forget every entry."""
        self.tx.execute("DELETE FROM requests")
