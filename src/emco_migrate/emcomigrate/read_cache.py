"""What the worker read from EMCO moments ago, so the next step need not ask again.

Two kinds, both kept in the worker process only (a step on another worker just reads):

- `RunReads`: a migration run's app intents as its previous step read them, and the DIG
  revision its snapshot read. The Go-named steps pass only names between them (their payloads
  are the Go reference's), so without this `SnapshotMigration` re-reads what
  `GetDigAppIntents` read, `UpdateAppIntents` what the snapshot read, and `DoDigUpdate` the
  revision, a fraction of a second later. Keyed by workflow run; a retried attempt never
  uses them (an earlier attempt may have written).
- `TargetChecks`: that a target cluster exists and belongs to a logical cloud, for a few
  seconds: an evacuation moving fifty DIGs of one project to one cluster asks once, not fifty
  times. Only answers that let a migration go on are kept; a refusal is always read afresh.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

from temporalio import activity

from emco_migrate.emcomigrate.types import AppIntent

V = TypeVar("V")

RUN_READS_SECONDS = 30.0
# DoDigUpdate's guard trusts the snapshot's revision only this long: beyond it (a slow
# UpdateAppIntents, say) the guard reads the DIG again.
FRESH_REVISION_SECONDS = 10.0
TARGET_CHECK_SECONDS = 15.0
MOST_ENTRIES = 5000


class _Expiring(Generic[V]):
    """At most `MOST_ENTRIES` values, each forgotten ``seconds`` after it was put."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._clock = clock
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()

    def put(self, key: Hashable, value: V) -> None:
        self._items[key] = (self._clock() + self._seconds, value)
        self._items.move_to_end(key)
        while len(self._items) > MOST_ENTRIES:
            self._items.popitem(last=False)

    def get(self, key: Hashable) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        if found[0] < self._clock():
            del self._items[key]
            return None
        return found[1]


def _this_run() -> tuple[str, str] | None:
    """The running activity's workflow run; None on a retried attempt or outside a run."""
    if not activity.in_activity():
        return None
    info = activity.info()
    if info.attempt > 1 or not info.workflow_run_id:
        return None
    return (info.workflow_id or "", info.workflow_run_id)


class RunReads:
    """App intents a run's earlier step read, by (run, placement intent); the Instantiated
    revision its snapshot read, by run."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._intents: _Expiring[tuple[AppIntent, ...]] = _Expiring(RUN_READS_SECONDS, clock)
        self._revisions: _Expiring[int] = _Expiring(FRESH_REVISION_SECONDS, clock)

    def keep_revision(self, revision: int) -> None:
        """Record that this attempt found the DIG Instantiated at ``revision``."""
        run = _this_run()
        if run is not None:
            self._revisions.put(run, revision)

    def revision(self) -> int | None:
        """The Instantiated revision this run's snapshot read in the last
        `FRESH_REVISION_SECONDS` (None: read it); a retried attempt always reads."""
        run = _this_run()
        return None if run is None else self._revisions.get(run)

    def keep(self, gpi: str, intents: Sequence[AppIntent]) -> None:
        """Record what this attempt read of ``gpi``'s app intents."""
        run = _this_run()
        if run is not None:
            self._intents.put((run, gpi), tuple(intents))

    def app_intents(self, gpi: str) -> tuple[AppIntent, ...] | None:
        """What this run's previous step read of ``gpi`` (None: read it); a retried
        attempt always reads."""
        run = _this_run()
        return None if run is None else self._intents.get((run, gpi))


class TargetChecks:
    """Recent answers that a cluster exists (clm) and which clusters a logical cloud holds
    (dcm), by the URL and names they were read with."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clusters: _Expiring[bool] = _Expiring(TARGET_CHECK_SECONDS, clock)
        self._members: _Expiring[frozenset[str]] = _Expiring(TARGET_CHECK_SECONDS, clock)

    def cluster_known(self, clm_url: str, cluster: str) -> bool:
        return bool(self._clusters.get((clm_url, cluster)))

    def keep_cluster(self, clm_url: str, cluster: str) -> None:
        self._clusters.put((clm_url, cluster), True)

    def members(self, dcm_url: str, project: str, logical_cloud: str) -> frozenset[str] | None:
        return self._members.get((dcm_url, project, logical_cloud))

    def keep_members(
        self, dcm_url: str, project: str, logical_cloud: str, members: frozenset[str]
    ) -> None:
        self._members.put((dcm_url, project, logical_cloud), members)
