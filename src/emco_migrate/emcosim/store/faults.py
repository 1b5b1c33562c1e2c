"""Injected faults: requests matching a method and a path regex fail, or are held and applied."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type hints

from emco_migrate.emcosim.store.db import Tx

# Path patterns are RE2 regular expressions, matched in time linear in the path whatever the
# pattern (Python's `re` backtracks: `(a+)+$` against a long path never ends). RE2 has no
# backreferences or lookarounds; it refuses such patterns.
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2 would also print each refusal on stderr


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern, _RE2_OPTIONS)


def path_regex_error(pattern: str) -> str | None:
    """Why ``pattern`` is not an RE2 regular expression, or None if it is one."""
    try:
        _compiled(pattern)
    except re2.error as err:
        reason = err.args[0] if err.args else err
        return reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
    return None


def path_matches(pattern: str, path: str) -> bool:
    """Whether the RE2 ``pattern`` is found anywhere in ``path`` (like `re.search`)."""
    try:
        compiled = _compiled(pattern)
    except re2.error:  # stored by a version that took Python's syntax: it matches nothing
        return False
    return compiled.search(path) is not None


_LIVE = "remaining IS NULL OR remaining > 0"


@dataclass(frozen=True)
class Fault:
    """A fault rule: an error (``status``) or a hold (``hold`` seconds), hit with ``rate``."""

    id: int
    method: str | None
    path_regex: str
    status: int | None  # None for a hold fault
    remaining: int | None  # hits left; None: unlimited
    delay: float
    hold: float | None = None
    rate: float = 1.0
    seed: int | None = None
    hits: int = 0

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Fault:
        return cls(
            id=row["id"],
            method=row["method"],
            path_regex=row["path_regex"],
            status=row["status"],
            remaining=row["remaining"],
            delay=row["delay"],
            hold=row["hold"],
            rate=row["rate"],
            seed=row["seed"],
            hits=row["hits"],
        )

    def matches(self, method: str, path: str) -> bool:
        """Whether a request is one this rule is about (before its rate is rolled)."""
        return self.method in (None, method) and path_matches(self.path_regex, path)


class FaultStore:
    """The `faults` table."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    def add(
        self,
        method: str | None,
        path_regex: str,
        *,
        status: int | None,
        count: int | None,
        delay: float = 0.0,
        hold: float | None = None,
        rate: float = 1.0,
        seed: int | None = None,
    ) -> Fault:
        """Add a rule (``count=None``: unlimited)."""
        cursor = self.tx.execute(
            "INSERT INTO faults (method, path_regex, status, remaining, delay, hold, rate, seed)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (method, path_regex, status, count, delay, hold, rate, seed),
        )
        return Fault(
            int(cursor.lastrowid or 0), method, path_regex, status, count, delay, hold, rate, seed
        )

    def armed(self) -> bool:
        """Whether any rule has hits left (cheap: checked on every request)."""
        return self.tx.execute(f"SELECT 1 FROM faults WHERE {_LIVE} LIMIT 1").fetchone() is not None

    def all(self) -> list[Fault]:
        """Every rule with hits left, oldest first."""
        rows = self.tx.execute(f"SELECT * FROM faults WHERE {_LIVE} ORDER BY id").fetchall()
        return [Fault.from_row(r) for r in rows]

    def clear(self) -> None:
        """Remove every rule."""
        self.tx.execute("DELETE FROM faults")

    def take(self, method: str, path: str, roll: Callable[[Fault], bool]) -> Fault | None:
        """The first matching rule that ``roll`` says hits this request, with the hit counted."""
        for fault in self.all():
            if not fault.matches(method, path) or not roll(fault):
                continue
            self.tx.execute(
                "UPDATE faults SET hits = hits + 1, remaining = remaining - 1 WHERE id = ?",
                (fault.id,),
            )
            remaining = None if fault.remaining is None else fault.remaining - 1
            return replace(fault, hits=fault.hits + 1, remaining=remaining)
        return None
