"""Injected faults: the next N requests matching a method and a path regex get a status."""

from __future__ import annotations

import re
from dataclasses import dataclass

from emco_migrate.emcosim.store.db import Tx


@dataclass(frozen=True)
class Fault:
    """A fault rule and how many more requests it will hit."""

    id: int
    method: str | None
    path_regex: str
    status: int
    remaining: int
    delay: float


class FaultStore:
    """The `faults` table."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    def add(
        self, method: str | None, path_regex: str, status: int, count: int, delay: float
    ) -> Fault:
        """Add a rule."""
        cursor = self.tx.execute(
            "INSERT INTO faults (method, path_regex, status, remaining, delay)"
            " VALUES (?, ?, ?, ?, ?)",
            (method, path_regex, status, count, delay),
        )
        return Fault(int(cursor.lastrowid or 0), method, path_regex, status, count, delay)

    def all(self) -> list[Fault]:
        """Every rule with hits left, oldest first."""
        rows = self.tx.execute("SELECT * FROM faults WHERE remaining > 0 ORDER BY id").fetchall()
        return [
            Fault(r["id"], r["method"], r["path_regex"], r["status"], r["remaining"], r["delay"])
            for r in rows
        ]

    def clear(self) -> None:
        """Remove every rule."""
        self.tx.execute("DELETE FROM faults")

    def take(self, method: str, path: str) -> Fault | None:
        """The first rule matching this request, with one hit used up; None if none."""
        for fault in self.all():
            if fault.method not in (None, method):
                continue
            if re.search(fault.path_regex, path) is None:
                continue
            self.tx.execute("UPDATE faults SET remaining = remaining - 1 WHERE id = ?", (fault.id,))
            return fault
        return None
