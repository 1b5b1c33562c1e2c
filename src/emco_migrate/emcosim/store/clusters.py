"""Simulated-cluster settings (reachability, readiness delay) and each cluster's own clock.

A cluster's *effective time* stops while it is unreachable, so rollout progress, which is
computed from effective timestamps, pauses and resumes without any background task. Every
change of reachability or of the never-ready flag is also logged (`cluster_log`), so a past
effective time can be turned back into real time.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from dataclasses import dataclass

from emco_migrate.emcosim.store.db import Tx


@dataclass(frozen=True)
class ClusterSettings:
    """How a simulated cluster behaves."""

    provider: str
    cluster: str
    reachable: bool = True
    ready_delay: float | None = None  # None: the emulator's --ready-delay
    never_ready: bool = False
    paused_total: float = 0.0
    unreachable_since: float | None = None

    def effective(self, now: float) -> float:
        """The cluster's clock: real time minus the time it spent unreachable."""
        paused = self.paused_total
        if self.unreachable_since is not None:
            paused += now - self.unreachable_since
        return now - paused

    def delay(self, default: float) -> float:
        """The readiness delay for resources placed now."""
        return default if self.ready_delay is None else self.ready_delay


@dataclass(frozen=True)
class ClockEntry:
    """A cluster's reachability and never-ready flag from ``at`` (real time) on, and the
    time it had spent unreachable before then."""

    at: float
    reachable: bool
    never_ready: bool
    paused_total: float


def _from_row(row: sqlite3.Row) -> ClusterSettings:
    return ClusterSettings(
        provider=row["provider"],
        cluster=row["cluster"],
        reachable=bool(row["reachable"]),
        ready_delay=row["ready_delay"],
        never_ready=bool(row["never_ready"]),
        paused_total=row["paused_total"],
        unreachable_since=row["unreachable_since"],
    )


class ClusterSettingsStore:
    """The `cluster_settings` table; clusters without a row use the defaults."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    def get(self, provider: str, cluster: str) -> ClusterSettings:
        """The cluster's settings (defaults if never changed)."""
        row = self.tx.execute(
            "SELECT * FROM cluster_settings WHERE provider = ? AND cluster = ?",
            (provider, cluster),
        ).fetchone()
        return ClusterSettings(provider, cluster) if row is None else _from_row(row)

    def all(self) -> dict[tuple[str, str], ClusterSettings]:
        """Every stored row, by (provider, cluster)."""
        rows = self.tx.execute("SELECT * FROM cluster_settings").fetchall()
        return {(r["provider"], r["cluster"]): _from_row(r) for r in rows}

    def update(
        self,
        provider: str,
        cluster: str,
        now: float,
        *,
        reachable: bool | None = None,
        ready_delay: float | None = None,
        clear_ready_delay: bool = False,
        never_ready: bool | None = None,
    ) -> ClusterSettings:
        """Change some settings; reachability changes start or stop the cluster's clock."""
        current = self.get(provider, cluster)
        changed = current
        if reachable is not None and reachable != current.reachable:
            if reachable:
                since = current.unreachable_since if current.unreachable_since is not None else now
                changed = dataclasses.replace(
                    changed,
                    reachable=True,
                    paused_total=current.paused_total + (now - since),
                    unreachable_since=None,
                )
            else:
                changed = dataclasses.replace(changed, reachable=False, unreachable_since=now)
        if clear_ready_delay:
            changed = dataclasses.replace(changed, ready_delay=None)
        elif ready_delay is not None:
            changed = dataclasses.replace(changed, ready_delay=ready_delay)
        if never_ready is not None:
            changed = dataclasses.replace(changed, never_ready=never_ready)
        if (changed.reachable, changed.never_ready) != (current.reachable, current.never_ready):
            self.tx.execute(
                "INSERT INTO cluster_log (provider, cluster, at, reachable, never_ready,"
                " paused_total) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    provider,
                    cluster,
                    now,
                    int(changed.reachable),
                    int(changed.never_ready),
                    changed.paused_total,
                ),
            )
        self.tx.execute(
            "INSERT INTO cluster_settings (provider, cluster, reachable, ready_delay, never_ready,"
            " paused_total, unreachable_since) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (provider, cluster) DO UPDATE SET reachable = excluded.reachable,"
            " ready_delay = excluded.ready_delay, never_ready = excluded.never_ready,"
            " paused_total = excluded.paused_total, unreachable_since = excluded.unreachable_since",
            (
                provider,
                cluster,
                int(changed.reachable),
                changed.ready_delay,
                int(changed.never_ready),
                changed.paused_total,
                changed.unreachable_since,
            ),
        )
        return changed

    def log(self, provider: str, cluster: str) -> list[ClockEntry]:
        """The cluster's logged changes, oldest first (none: it never changed)."""
        rows = self.tx.execute(
            "SELECT at, reachable, never_ready, paused_total FROM cluster_log"
            " WHERE provider = ? AND cluster = ? ORDER BY id",
            (provider, cluster),
        ).fetchall()
        return [
            ClockEntry(r["at"], bool(r["reachable"]), bool(r["never_ready"]), r["paused_total"])
            for r in rows
        ]
