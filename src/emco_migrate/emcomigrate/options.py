"""The migration's activity options: Go's `ActivityOptions` per activity (the Go
reference's choice rules), checked and turned into `execute_activity` arguments, and the
bounds this workflow adds (step budget, settle time, heartbeat floor, verification).
Durations and retry policies convert as `wire.options` says."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityCancellationType

from emco_migrate.emcomigrate.names import (
    ACTIVITY_DO_DIG_UPDATE,
    ACTIVITY_GET_DIG_APP_INTENTS,
    ACTIVITY_UPDATE_APP_INTENTS,
    ALL_ACTIVITIES,
    TASK_QUEUE,
)
from emco_migrate.emcomigrate.param_schema import closest, unknown_key
from emco_migrate.wire.options import OptionsError, duration, retry_policy
from emco_migrate.wire.structs import wire_keys
from emco_migrate.wire.temporal import ActivityOptionsSpec, RetryPolicySpec

DEFAULT_START_TO_CLOSE_NS = 60 * 1_000_000_000

# The activities whose options EMCO's intent may set, in the order the workflow runs them.
GO_ACTIVITIES = (
    ACTIVITY_GET_DIG_APP_INTENTS,
    ACTIVITY_UPDATE_APP_INTENTS,
    ACTIVITY_DO_DIG_UPDATE,
)


# An activity ID is ours to choose; a custom one is kept short and printable (Temporal
# refuses IDs past its limit, and every workflow task carrying it would fail).
MAX_ACTIVITY_ID_CHARS = 255


@dataclass(frozen=True)
class ActivitySettings:
    """Keyword arguments for `workflow.execute_activity`, built from one options entry."""

    start_to_close_timeout: timedelta | None = None
    schedule_to_close_timeout: timedelta | None = None
    schedule_to_start_timeout: timedelta | None = None
    heartbeat_timeout: timedelta | None = None
    retry_policy: RetryPolicy | None = None
    task_queue: str | None = None
    activity_id: str | None = None
    cancellation_type: ActivityCancellationType = ActivityCancellationType.TRY_CANCEL

    @classmethod
    def from_spec(
        cls,
        spec: ActivityOptionsSpec,
        field: str,
        *,
        strict: bool = False,
        run_queue: str = TASK_QUEUE,
    ) -> ActivitySettings:
        """Validate and convert a Go `ActivityOptions` value for a run on ``run_queue``.

        A ``TaskQueue`` of MIGRATION_TASK_Q (what the Go samples spell) means "this
        deployment's migration queue": the run's own, ``run_queue``. ``strict`` (every run
        started since the input schema) also refuses any other task queue than these, which
        no worker of ours polls, an activity ID that is not short and printable, and keys
        that name no field (Go's decoder would drop them)."""
        if strict:
            _check_strict(spec, field, run_queue)
        settings = cls(
            start_to_close_timeout=duration(spec.start_to_close_ns, f"{field}.StartToCloseTimeout"),
            schedule_to_close_timeout=duration(
                spec.schedule_to_close_ns, f"{field}.ScheduleToCloseTimeout"
            ),
            schedule_to_start_timeout=duration(
                spec.schedule_to_start_ns, f"{field}.ScheduleToStartTimeout"
            ),
            heartbeat_timeout=duration(spec.heartbeat_ns, f"{field}.HeartbeatTimeout"),
            retry_policy=retry_policy(spec.retry_policy, f"{field}.RetryPolicy"),
            task_queue=run_queue if spec.task_queue == TASK_QUEUE else spec.task_queue or None,
            activity_id=spec.activity_id or None,
            cancellation_type=(
                ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
                if spec.wait_for_cancellation
                else ActivityCancellationType.TRY_CANCEL
            ),
        )
        if settings.start_to_close_timeout is None and settings.schedule_to_close_timeout is None:
            raise OptionsError(
                field, "StartToCloseTimeout or ScheduleToCloseTimeout must be set (non-zero)"
            )
        return settings

    def kwargs(self) -> dict[str, Any]:
        """Only the options that are set, for `workflow.execute_activity(..., **kwargs)`."""
        out: dict[str, Any] = {"cancellation_type": self.cancellation_type}
        for name in (
            "start_to_close_timeout",
            "schedule_to_close_timeout",
            "schedule_to_start_timeout",
            "heartbeat_timeout",
            "retry_policy",
            "task_queue",
            "activity_id",
        ):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    def with_budget(self, budget: timedelta) -> ActivitySettings:
        """These settings with ``budget`` as the schedule-to-close timeout when nothing
        else bounds the retries (no schedule-to-close, unlimited attempts)."""
        if self.schedule_to_close_timeout is not None:
            return self
        if self.retry_policy is not None and self.retry_policy.maximum_attempts > 0:
            return self
        return replace(self, schedule_to_close_timeout=budget)

    def with_settle_time(self, settle: timedelta) -> ActivitySettings:
        """These settings with ``settle`` added to the start-to-close timeout, for a step
        whose retry first waits for an earlier attempt's late request (the step's own
        requests still end within the configured timeout)."""
        if self.start_to_close_timeout is None or settle <= timedelta(0):
            return self
        return replace(self, start_to_close_timeout=self.start_to_close_timeout + settle)

    def with_heartbeat_floor(self) -> ActivitySettings:
        """These settings with a configured heartbeat timeout raised to `HEARTBEAT_FLOOR`."""
        if self.heartbeat_timeout is None or self.heartbeat_timeout >= HEARTBEAT_FLOOR:
            return self
        return replace(self, heartbeat_timeout=HEARTBEAT_FLOOR)


# A heartbeat timeout runs from the start of an attempt, whether the activity heartbeats or
# not; one shorter than a few EMCO round trips times healthy attempts out and retries them
# (the Go sample's 5 ms retried about one activity in six, 1-2 s later each, under load).
# The workflow raises every configured heartbeat timeout to this floor.
HEARTBEAT_FLOOR = timedelta(seconds=5)


def _check_known_keys(spec: ActivityOptionsSpec, field: str) -> None:
    # Go's decoder drops an unknown key silently; a misspelt MaximumAttempts would then mean
    # "retry forever", so it is refused, naming the field it resembles.
    for keys, known, where in (
        (spec.unknown_keys, wire_keys(ActivityOptionsSpec), field),
        (
            spec.retry_policy.unknown_keys if spec.retry_policy else (),
            wire_keys(RetryPolicySpec),
            f"{field}.RetryPolicy",
        ),
    ):
        for key in keys:
            err = unknown_key(f"{where}.{key}", key, known, "field")
            raise OptionsError(err.field, err.reason)


def _check_strict(spec: ActivityOptionsSpec, field: str, run_queue: str) -> None:
    _check_known_keys(spec, field)
    if spec.task_queue and spec.task_queue not in (TASK_QUEUE, run_queue):
        shown = spec.task_queue if len(spec.task_queue) <= 60 else spec.task_queue[:60] + "..."
        raise OptionsError(
            f"{field}.TaskQueue",
            f"{shown!r} is not {TASK_QUEUE}, the only task queue emco-migrate workers poll: "
            "leave it empty"
            if run_queue == TASK_QUEUE
            else f"{shown!r} is neither {TASK_QUEUE} nor {run_queue!r}, which both name the "
            "run's own task queue, the only task queue its workers poll: leave it empty",
        )
    activity_id = spec.activity_id
    if len(activity_id) > MAX_ACTIVITY_ID_CHARS:
        raise OptionsError(
            f"{field}.ActivityID",
            f"is {len(activity_id)} characters long (at most {MAX_ACTIVITY_ID_CHARS})",
        )
    if activity_id and (not activity_id.isprintable() or not activity_id.isascii()):
        raise OptionsError(f"{field}.ActivityID", "must be printable ASCII")


def resolve_activity_options(
    options: dict[str, ActivityOptionsSpec] | None,
    activities: tuple[str, ...] = GO_ACTIVITIES,
    *,
    strict: bool = False,
    run_queue: str = TASK_QUEUE,
) -> dict[str, ActivitySettings]:
    """Per-activity settings, as the Go reference chooses them, for a run on ``run_queue``.

    The default is StartToClose 1 minute; ``all-activities`` replaces it wholesale, and an
    entry named after an activity replaces that again (no merging). Any other key fails.
    """
    options = options or {}
    for key in options:
        if key != ALL_ACTIVITIES and key not in activities:
            guess = closest(key, (ALL_ACTIVITIES, *activities))
            raise OptionsError(
                f"activityOptions[{key!r}]",
                f"Invalid activity name in params: {key}"
                + (
                    f"; did you mean {guess!r}?"
                    if guess
                    else f" (expected {ALL_ACTIVITIES} or one of {', '.join(activities)})"
                ),
            )
    base = ActivitySettings.from_spec(
        options.get(
            ALL_ACTIVITIES, ActivityOptionsSpec(start_to_close_ns=DEFAULT_START_TO_CLOSE_NS)
        ),
        f"activityOptions[{ALL_ACTIVITIES!r}]",
        strict=strict,
        run_queue=run_queue,
    )
    return {
        name: (
            ActivitySettings.from_spec(
                options[name], f"activityOptions[{name!r}]", strict=strict, run_queue=run_queue
            )
            if name in options
            else base
        )
        for name in activities
    }


# VerifyMigration waits minutes, not the seconds a REST call takes, so it does not take
# its timeouts from activityOptions: start-to-close is the verification deadline
# (verifyTimeoutSeconds) plus a margin, and the heartbeat timeout is the configured one
# raised to a floor, because the Go sample's 5 ms would time out between two polls.
# Its retry policy and task queue do come from the options.
VERIFY_HEARTBEAT_DEFAULT = timedelta(seconds=30)
VERIFY_HEARTBEAT_FLOOR = HEARTBEAT_FLOOR
VERIFY_MARGIN = timedelta(seconds=60)


def verification_settings(
    configured: ActivitySettings, verify_timeout_seconds: int
) -> ActivitySettings:
    """Options for VerifyMigration, derived from its configured entry as described above."""
    heartbeat = max(
        configured.heartbeat_timeout or VERIFY_HEARTBEAT_DEFAULT, VERIFY_HEARTBEAT_FLOOR
    )
    return ActivitySettings(
        start_to_close_timeout=timedelta(seconds=verify_timeout_seconds) + VERIFY_MARGIN,
        heartbeat_timeout=heartbeat,
        retry_policy=configured.retry_policy,
        task_queue=configured.task_queue,
    )
