"""Go activity/retry options -> Python SDK options (`wire.options`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.workflow import ActivityCancellationType

from emco_migrate.emcomigrate.options import (
    GO_ACTIVITIES,
    HEARTBEAT_FLOOR,
    ActivitySettings,
    resolve_activity_options,
)
from emco_migrate.wire.options import OptionsError, duration, retry_policy
from emco_migrate.wire.temporal import ActivityOptionsSpec, RetryPolicySpec, decode_workflow_params

VECTOR = Path(__file__).parents[1] / "fixtures" / "vectors" / "workflow-input-04.json"


def test_vector_options_apply_to_all_three_activities() -> None:
    params = decode_workflow_params(VECTOR.read_bytes())
    resolved = resolve_activity_options(params.activity_options)
    assert set(resolved) == set(GO_ACTIVITIES)
    for settings in resolved.values():
        assert settings.start_to_close_timeout == timedelta(seconds=60)
        # 5 ms converts exactly
        assert settings.heartbeat_timeout == timedelta(milliseconds=5)
        assert settings.retry_policy is not None
        # 10 ns must not become "unset" (the server's 1 s default): it rounds up to 1 µs
        assert settings.retry_policy.initial_interval == timedelta(microseconds=1)
        assert settings.retry_policy.backoff_coefficient == 2.0
        assert settings.retry_policy.maximum_interval is None
        assert settings.retry_policy.maximum_attempts == 0


def test_default_is_one_minute_start_to_close() -> None:
    resolved = resolve_activity_options(None)
    for settings in resolved.values():
        assert settings.kwargs() == {
            "start_to_close_timeout": timedelta(minutes=1),
            "cancellation_type": ActivityCancellationType.TRY_CANCEL,
        }


def test_per_activity_entry_replaces_all_activities_wholesale() -> None:
    all_activities = ActivityOptionsSpec(
        start_to_close_ns=60_000_000_000,
        heartbeat_ns=5_000_000,
        retry_policy=RetryPolicySpec(maximum_attempts=7),
    )
    update_only = ActivityOptionsSpec(schedule_to_close_ns=120_000_000_000)
    resolved = resolve_activity_options(
        {"all-activities": all_activities, "UpdateAppIntents": update_only}
    )
    assert resolved["GetDigAppIntents"].heartbeat_timeout == timedelta(milliseconds=5)
    assert resolved["DoDigUpdate"].retry_policy is not None
    assert resolved["DoDigUpdate"].retry_policy.maximum_attempts == 7
    update = resolved["UpdateAppIntents"]
    # not merged: nothing from all-activities survives
    assert update.heartbeat_timeout is None
    assert update.retry_policy is None
    assert update.start_to_close_timeout is None
    assert update.schedule_to_close_timeout == timedelta(minutes=2)


def test_per_activity_entry_without_all_activities_keeps_default_for_others() -> None:
    resolved = resolve_activity_options(
        {"DoDigUpdate": ActivityOptionsSpec(start_to_close_ns=5_000_000_000)}
    )
    assert resolved["DoDigUpdate"].start_to_close_timeout == timedelta(seconds=5)
    assert resolved["GetDigAppIntents"].start_to_close_timeout == timedelta(minutes=1)


def test_unknown_activity_name_fails_naming_the_key() -> None:
    with pytest.raises(OptionsError, match="Invalid activity name in params: Bogus"):
        resolve_activity_options({"Bogus": ActivityOptionsSpec(start_to_close_ns=1)})


def test_entry_without_any_timeout_is_refused() -> None:
    with pytest.raises(OptionsError, match="StartToCloseTimeout or ScheduleToCloseTimeout"):
        resolve_activity_options({"all-activities": ActivityOptionsSpec(heartbeat_ns=1)})


@pytest.mark.parametrize(
    ("ns", "expected"),
    [
        (0, None),
        (1, timedelta(microseconds=1)),
        (10, timedelta(microseconds=1)),
        (1_000, timedelta(microseconds=1)),
        (1_001, timedelta(microseconds=2)),
        (5_000_000, timedelta(milliseconds=5)),
        (60_000_000_000, timedelta(seconds=60)),
    ],
)
def test_durations_round_up_to_microseconds(ns: int, expected: timedelta | None) -> None:
    assert duration(ns, "f") == expected


def test_negative_duration_is_refused() -> None:
    with pytest.raises(OptionsError, match="HeartbeatTimeout: must not be negative"):
        ActivitySettings.from_spec(ActivityOptionsSpec(start_to_close_ns=1, heartbeat_ns=-5), "x")


def test_retry_policy_zero_values_become_sdk_defaults() -> None:
    policy = retry_policy(RetryPolicySpec(), "p")
    assert policy is not None
    assert policy.initial_interval == timedelta(seconds=1)
    assert policy.backoff_coefficient == 2.0
    assert policy.maximum_interval is None
    assert policy.maximum_attempts == 0
    assert policy.non_retryable_error_types is None


def test_null_retry_policy_stays_none() -> None:
    assert retry_policy(None, "p") is None


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (RetryPolicySpec(backoff_coefficient=0.5), "p.BackoffCoefficient"),
        (RetryPolicySpec(maximum_attempts=-1), "p.MaximumAttempts"),
        (RetryPolicySpec(initial_interval_ns=2_000_000_000, maximum_interval_ns=1_000_000_000),
         "p.MaximumInterval"),
        (RetryPolicySpec(maximum_interval_ns=500_000_000), "p.MaximumInterval"),
    ],
)  # fmt: skip
def test_policies_the_sdk_would_reject_fail_with_the_field(
    spec: RetryPolicySpec, field: str
) -> None:
    with pytest.raises(OptionsError) as caught:
        retry_policy(spec, "p")
    assert caught.value.field == field


def test_wait_for_cancellation_maps_to_cancellation_type() -> None:
    settings = ActivitySettings.from_spec(
        ActivityOptionsSpec(start_to_close_ns=1, wait_for_cancellation=True), "x"
    )
    assert settings.cancellation_type == ActivityCancellationType.WAIT_CANCELLATION_COMPLETED


@pytest.mark.parametrize(
    ("configured", "effective"),
    [
        (timedelta(milliseconds=5), HEARTBEAT_FLOOR),  # the Go sample's
        (None, None),  # no heartbeat timeout stays none
        (timedelta(seconds=30), timedelta(seconds=30)),
    ],
)
def test_heartbeat_timeout_is_raised_to_the_floor(
    configured: timedelta | None, effective: timedelta | None
) -> None:
    settings = ActivitySettings(
        start_to_close_timeout=timedelta(minutes=1), heartbeat_timeout=configured
    )
    floored = settings.with_heartbeat_floor()
    assert floored.heartbeat_timeout == effective
    assert floored.start_to_close_timeout == timedelta(minutes=1)


# ----------------------------------------------------------------- TaskQueue

RUN_QUEUE = "test-run-queue"


@pytest.mark.parametrize(
    ("task_queue", "run_queue", "scheduled"),
    [
        ("", "MIGRATION_TASK_Q", None),  # the run's queue, by the SDK's default
        ("", RUN_QUEUE, None),
        # What the Go samples spell: the same command as before queues were configurable...
        ("MIGRATION_TASK_Q", "MIGRATION_TASK_Q", "MIGRATION_TASK_Q"),
        # ...and, on a deployment's own queue, that queue.
        ("MIGRATION_TASK_Q", RUN_QUEUE, RUN_QUEUE),
        (RUN_QUEUE, RUN_QUEUE, RUN_QUEUE),
    ],
)
@pytest.mark.parametrize("strict", [True, False])
def test_task_queue_accepted_is_the_runs_own(
    task_queue: str, run_queue: str, scheduled: str | None, strict: bool
) -> None:
    spec = ActivityOptionsSpec(start_to_close_ns=1_000_000_000, task_queue=task_queue)
    resolved = resolve_activity_options(
        {"all-activities": spec}, strict=strict, run_queue=run_queue
    )
    for settings in resolved.values():
        assert settings.task_queue == scheduled
        assert settings.kwargs().get("task_queue") == scheduled


@pytest.mark.parametrize(
    ("task_queue", "run_queue", "reason"),
    [
        (
            "nobody-polls",
            "MIGRATION_TASK_Q",
            "'nobody-polls' is not MIGRATION_TASK_Q, the only task queue emco-migrate workers "
            "poll: leave it empty",
        ),
        (
            "nobody-polls",
            RUN_QUEUE,
            f"'nobody-polls' is neither MIGRATION_TASK_Q nor {RUN_QUEUE!r}, which both name the "
            "run's own task queue, the only task queue its workers poll: leave it empty",
        ),
        (
            # Another deployment's queue is not this run's.
            "other-queue",
            RUN_QUEUE,
            f"'other-queue' is neither MIGRATION_TASK_Q nor {RUN_QUEUE!r}",
        ),
        ("q" * 100, RUN_QUEUE, f"{'q' * 60 + '...'!r} is neither"),
    ],
)
def test_another_task_queue_is_refused_naming_both_accepted_values(
    task_queue: str, run_queue: str, reason: str
) -> None:
    spec = ActivityOptionsSpec(start_to_close_ns=1_000_000_000, task_queue=task_queue)
    with pytest.raises(OptionsError) as caught:
        resolve_activity_options({"DoDigUpdate": spec}, strict=True, run_queue=run_queue)
    assert caught.value.field == "activityOptions['DoDigUpdate'].TaskQueue"
    assert caught.value.reason.startswith(reason), caught.value.reason


def test_runs_before_strict_input_keep_any_task_queue() -> None:
    # Not strict (runs started before strict-input-1): scheduled as given, as then.
    spec = ActivityOptionsSpec(start_to_close_ns=1_000_000_000, task_queue="elsewhere")
    resolved = resolve_activity_options({"all-activities": spec}, run_queue="MIGRATION_TASK_Q")
    assert {s.task_queue for s in resolved.values()} == {"elsewhere"}
