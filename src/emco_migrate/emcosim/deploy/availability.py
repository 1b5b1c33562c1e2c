"""Ground truth: when each app of a DIG was Ready on each cluster, and when on none.

Derived, like every rollout state, from the resource rows' timestamps: a resource is Ready
from ``ready_at`` until its deletion completes (``deleted_at``) or a re-rollout of its
context replaced it (``dropped_at``), except while its cluster is marked never-ready. Row
timestamps are on their cluster's effective clock, which stands still while the cluster is
unreachable (what rsync and the monitor report stays as it was); `ClusterClock` turns them
back into real time from the cluster's log. An app is Ready on a cluster while any of its
resources there is Ready (the emulator rolls an app's resources on one cluster out, and
removes them, together). It is *interrupted* while it is Ready on no cluster, counted from
the first time it was Ready anywhere (its first rollout is not an interruption).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from emco_migrate.emcosim.deploy.session import Session
from emco_migrate.emcosim.store.clusters import ClockEntry
from emco_migrate.emcosim.store.contexts import NEVER, ResourceRow

# [start, end) in real (Unix) seconds; end is math.inf while it lasts.
Interval = tuple[float, float]


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """The intervals merged, sorted, with empty ones dropped (touching ones joined)."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def subtract(intervals: Iterable[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """The parts of ``intervals`` outside every hole."""
    remaining = union(intervals)
    for hole_start, hole_end in union(holes):
        cut: list[Interval] = []
        for start, end in remaining:
            if end <= hole_start or start >= hole_end:
                cut.append((start, end))
                continue
            if start < hole_start:
                cut.append((start, hole_start))
            if end > hole_end:
                cut.append((hole_end, end))
        remaining = cut
    return remaining


def gaps(intervals: Iterable[Interval], now: float) -> list[Interval]:
    """When none of ``intervals`` holds, between the first start and ``now``; a gap still
    open at ``now`` ends at math.inf."""
    merged = [(s, e) for s, e in union(intervals) if s <= now]
    found = [(merged[i][1], merged[i + 1][0]) for i in range(len(merged) - 1)]
    if merged and merged[-1][1] <= now:
        found.append((merged[-1][1], math.inf))
    return found


def seconds(interval: Interval, now: float) -> float:
    """An interval's length, an open one counted up to ``now``."""
    return min(interval[1], now) - interval[0]


@dataclass(frozen=True)
class ClusterClock:
    """A cluster's effective clock as a function of real time, from its logged changes."""

    log: tuple[ClockEntry, ...]
    paused_total: float = 0.0  # the stored total, for a cluster that has no log entry

    def _segments(self) -> list[tuple[float, float, bool, float]]:
        """(start, end, reachable, time paused before start): the clock runs while reachable
        (effective = real - paused) and stands at ``start - paused`` while not."""
        if not self.log:
            return [(-math.inf, math.inf, True, self.paused_total)]
        segments = [(-math.inf, self.log[0].at, True, self.log[0].paused_total)]
        for entry, end in self._spans():
            segments.append((entry.at, end, entry.reachable, entry.paused_total))
        return segments

    def _spans(self) -> list[tuple[ClockEntry, float]]:
        """Each entry with the real time the next one replaced it (math.inf: the last)."""
        ends = [after.at for after in self.log[1:]] + [math.inf]
        return list(zip(self.log, ends, strict=False))  # no entry: no span

    def real_time(self, effective: float) -> float:
        """The first real time the cluster's clock showed ``effective`` (math.inf: not yet)."""
        if effective >= NEVER:
            return math.inf
        for start, end, reachable, paused in self._segments():
            if reachable:
                real = effective + paused
                if real < end:
                    return max(real, start)
            elif effective <= start - paused:
                return start
        return math.inf

    def never_ready(self) -> list[Interval]:
        """When the cluster was marked never-ready."""
        return union((entry.at, end) for entry, end in self._spans() if entry.never_ready)


def ready_interval(row: ResourceRow, clock: ClusterClock, now: float) -> list[Interval]:
    """When one resource was Ready, up to ``now`` (a future end is not known yet: inf)."""
    start = clock.real_time(row.ready_at)
    end = math.inf if row.deleted_at is None else clock.real_time(row.deleted_at)
    if row.dropped_at is not None:
        end = min(end, row.dropped_at)
    if start > now:
        return []
    if end > now:
        end = math.inf
    return subtract([(start, end)], clock.never_ready())


@dataclass(frozen=True)
class ClusterAvailability:
    """When an app was Ready on one cluster."""

    provider: str
    cluster: str
    ready: tuple[Interval, ...]

    def transitions(self) -> list[tuple[float, bool]]:
        """(time, Ready from then on) for each change, oldest first."""
        changes: list[tuple[float, bool]] = []
        for start, end in self.ready:
            changes.append((start, True))
            if end != math.inf:
                changes.append((end, False))
        return changes


@dataclass(frozen=True)
class AppAvailability:
    """An app of the DIG: its clusters, and when it was Ready on none of them."""

    app: str
    clusters: tuple[ClusterAvailability, ...]
    interruptions: tuple[Interval, ...]

    def interruption_seconds(self, now: float) -> float:
        """The interruptions' total, an open one counted up to ``now``."""
        return sum(seconds(i, now) for i in self.interruptions)


def app_availability(
    rows: Sequence[ResourceRow], clocks: dict[tuple[str, str], ClusterClock], now: float
) -> list[AppAvailability]:
    """Per app (by name) and cluster, from every row the DIG's contexts ever had.

    A row handed over to the next context (``superseded``) is skipped: its successor
    carries its timestamps.
    """
    ready: dict[str, dict[tuple[str, str], list[Interval]]] = {}
    for row in rows:
        if row.superseded:
            continue
        key = (row.provider, row.cluster)
        on_cluster = ready.setdefault(row.app, {}).setdefault(key, [])
        on_cluster += ready_interval(row, clocks[key], now)
    apps = []
    for app, by_cluster in sorted(ready.items()):
        clusters = tuple(
            ClusterAvailability(provider, cluster, tuple(union(intervals)))
            for (provider, cluster), intervals in sorted(by_cluster.items())
        )
        anywhere = [i for c in clusters for i in c.ready]
        apps.append(AppAvailability(app, clusters, tuple(gaps(anywhere, now))))
    return apps


def dig_availability(session: Session, owner: str) -> list[AppAvailability]:
    """`app_availability` of the DIG whose contexts ``owner`` owns, at the session's time."""
    rows = []
    for context_id in session.contexts.owned(owner):
        rows += session.contexts.history(context_id)
        rows += session.contexts.resources(context_id)
    clocks = {
        (provider, cluster): ClusterClock(
            tuple(session.clusters.log(provider, cluster)),
            session.clusters.get(provider, cluster).paused_total,
        )
        for provider, cluster in {(r.provider, r.cluster) for r in rows}
    }
    return app_availability(rows, clocks, session.now)
