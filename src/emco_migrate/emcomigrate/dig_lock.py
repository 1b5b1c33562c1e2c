"""One migration per DIG at a time: a lock held as a child workflow with a derived ID.

Temporal refuses to start a second open workflow with the same ID, atomically, which is
exactly a lock. A migration starts `DigLockWorkflow` as its child under `lock_id(dig)`
before its first read of the DIG; the child's parent close policy (terminate) releases it
when the migration closes, however it closes, so the lock ends Terminated ("by parent close
policy"): that is its normal end. (Runs started before patch lighter-run-1
signal ``release`` before closing, and their lock completes.) A run that finds the lock
held by a run that has already closed ends the stale lock itself
(`ReversibleMigrationActivities.describe_dig_lock`) and takes it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from emco_migrate.emcomigrate.names import SIGNAL_RELEASE, WORKFLOW_DIG_LOCK
    from emco_migrate.emcomigrate.types import DigRef

LOCK_PREFIX = "emco-migrate-lock"


def lock_id(dig: DigRef) -> str:
    """The lock's workflow ID: EMCO's host and the DIG's full name."""
    host = urlsplit(dig.emco_url).netloc or dig.emco_url
    return "/".join((LOCK_PREFIX, host, dig.project, dig.composite_app, dig.version, dig.dig))


def lock_dig(lock: str) -> DigRef | None:
    """The DIG a `lock_id` names (EMCO's URL only by its host), or None for another ID."""
    prefix, _, rest = lock.partition("/")
    parts = rest.split("/")
    if prefix != LOCK_PREFIX or len(parts) != 5:
        return None
    host, project, composite_app, version, dig = parts
    return DigRef(f"//{host}", project, composite_app, version, dig)


@workflow.defn(name=WORKFLOW_DIG_LOCK)
class DigLockWorkflow:
    """Open while its holder (the parent migration) runs; ends on ``release``."""

    def __init__(self) -> None:
        self._released = False

    @workflow.signal(name=SIGNAL_RELEASE)
    def release(self) -> None:
        """The holder is done with the DIG."""
        self._released = True

    @workflow.run
    async def run(self, holder: str) -> str:
        """Wait for ``release``; returns the holder's workflow ID."""
        await workflow.wait_condition(lambda: self._released)
        return holder
