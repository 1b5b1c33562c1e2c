"""The activity a running workflow waits on, read from its description (no worker needed)."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.api.failure.v1 import Failure
from temporalio.api.workflow.v1 import PendingActivityInfo

MAX_ERROR_CHARS = 300
MAX_WAITING_CHARS = 300
JSON_ENCODING = b"json/plain"


class ActivityState(enum.StrEnum):
    """Where the pending activity is (Temporal's `PendingActivityState`)."""

    UNSPECIFIED = "unspecified"
    SCHEDULED = "scheduled"
    STARTED = "started"
    CANCEL_REQUESTED = "cancel-requested"
    PAUSED = "paused"
    PAUSE_REQUESTED = "pause-requested"


_STATES = {
    PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED: ActivityState.SCHEDULED,
    PendingActivityState.PENDING_ACTIVITY_STATE_STARTED: ActivityState.STARTED,
    PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED: ActivityState.CANCEL_REQUESTED,
    PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED: ActivityState.PAUSED,
    PendingActivityState.PENDING_ACTIVITY_STATE_PAUSE_REQUESTED: ActivityState.PAUSE_REQUESTED,
}


@dataclass(frozen=True)
class PendingActivity:
    """One pending activity: its attempts, last error, next retry and what it waits for.

    ``maximum_attempts`` is None when unlimited; ``waiting_for`` comes from a JSON heartbeat
    ``{"waitingFor": [...]}`` (the verification activity sends one with every poll).
    """

    name: str
    attempt: int
    state: ActivityState
    maximum_attempts: int | None = None
    last_error: str | None = None
    last_attempt_at: datetime | None = None
    next_retry_at: datetime | None = None
    expires_at: datetime | None = None
    waiting_for: tuple[str, ...] = ()

    @classmethod
    def from_proto(cls, info: PendingActivityInfo) -> PendingActivity:
        """Parse Temporal's `PendingActivityInfo`."""
        return cls(
            name=info.activity_type.name,
            attempt=info.attempt,
            state=_STATES.get(info.state, ActivityState.UNSPECIFIED),
            maximum_attempts=info.maximum_attempts or None,
            last_error=(
                _failure_message(info.last_failure) if info.HasField("last_failure") else None
            ),
            last_attempt_at=_time(info, "last_attempt_complete_time"),
            next_retry_at=_time(info, "next_attempt_schedule_time"),
            expires_at=_time(info, "expiration_time"),
            waiting_for=(
                _waiting_for(info.heartbeat_details.payloads)
                if info.HasField("heartbeat_details")
                else ()
            ),
        )

    def to_json(self) -> dict[str, Any]:
        """The ``activity`` object of the progress answer (times in ISO 8601, UTC)."""
        return {
            "name": self.name,
            "attempt": self.attempt,
            "maximumAttempts": self.maximum_attempts,
            "state": self.state.value,
            "lastError": self.last_error,
            "lastAttemptAt": _iso(self.last_attempt_at),
            "nextRetryAt": _iso(self.next_retry_at),
            "expiresAt": _iso(self.expires_at),
            "waitingFor": list(self.waiting_for),
        }

    def summary(self) -> str:
        """A short clause for a one-line message; "" when there is nothing to tell."""
        if self.waiting_for:
            return _shorten(f"waiting for: {'; '.join(self.waiting_for)}", MAX_WAITING_CHARS)
        if self.last_error is None:
            return ""
        limit = str(self.maximum_attempts) if self.maximum_attempts else "unlimited"
        # The failure belongs to the attempt before the current one, which is either
        # waiting for its retry time (scheduled) or running now (started).
        failed = max(self.attempt - 1, 1)
        clause = f"{self.name} attempt {failed} of {limit} failed: {self.last_error}"
        if self.state is ActivityState.STARTED:
            clause += f"; attempt {self.attempt} is running"
        elif self.next_retry_at is not None:
            clause += f"; next try (attempt {self.attempt}) at {self.next_retry_at:%H:%M:%S}Z"
        if self.expires_at is not None and self.maximum_attempts is None:
            clause += f", gives up at {self.expires_at:%H:%M:%S}Z"
        return clause


def pending_activities(infos: Sequence[PendingActivityInfo]) -> tuple[PendingActivity, ...]:
    """Every pending activity of a description."""
    return tuple(PendingActivity.from_proto(info) for info in infos)


def most_telling(activities: Sequence[PendingActivity]) -> PendingActivity | None:
    """The activity to report when there are several: one that failed or waits, else the
    first (the migrate workflow runs one at a time)."""
    for activity in activities:
        if activity.last_error is not None or activity.waiting_for:
            return activity
    return activities[0] if activities else None


def _failure_message(failure: Failure) -> str:
    """The failure's message, or its cause's when it has none (e.g. a timeout)."""
    message = failure.message
    if failure.HasField("cause") and failure.cause.message and failure.cause.message != message:
        message = f"{message}: {failure.cause.message}" if message else failure.cause.message
    return _shorten(message or "failed without a message", MAX_ERROR_CHARS)


def _waiting_for(payloads: Sequence[Payload]) -> tuple[str, ...]:
    """``waitingFor`` of the last heartbeat, if it sent JSON with that key."""
    for payload in payloads:
        if payload.metadata.get("encoding") != JSON_ENCODING:
            continue
        try:
            detail = json.loads(payload.data)
        except ValueError:
            continue
        waiting = detail.get("waitingFor") if isinstance(detail, dict) else None
        if isinstance(waiting, list):
            return tuple(_shorten(str(item), MAX_WAITING_CHARS) for item in waiting)
    return ()


def _time(info: PendingActivityInfo, field: str) -> datetime | None:
    if not info.HasField(field):  # type: ignore[arg-type]
        return None
    stamp: Timestamp = getattr(info, field)
    return stamp.ToDatetime().replace(tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _shorten(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
