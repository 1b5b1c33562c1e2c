"""Go's Temporal option values (zero = unset, integer nanoseconds) as Python SDK values.

Rules: 0 means "unset"; a non-zero duration is rounded *up* to whole microseconds
(Python's timedelta resolution), so 10 ns becomes 1 µs and never "unset"; a
BackoffCoefficient of 0 becomes the default 2.0; nothing the SDK or the server would
refuse is passed on: such a value fails with an error naming the field. Used for the
workflow's start options (the workflow client) and its activity options (the workflow).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

from emco_migrate.wire.gojson import FieldError
from emco_migrate.wire.temporal import RetryPolicySpec

NS_PER_US = 1_000
DEFAULT_INITIAL_INTERVAL = timedelta(seconds=1)
DEFAULT_BACKOFF = 2.0


class OptionsError(FieldError):
    """An option value the SDK or the server would refuse; ``field`` names it, ``reason``
    says why."""


def duration(ns: int, field: str) -> timedelta | None:
    """Integer nanoseconds -> timedelta; 0 -> None (unset); sub-µs values round up."""
    if ns < 0:
        raise OptionsError(field, f"must not be negative (got {ns} ns)")
    if ns == 0:
        return None
    return timedelta(microseconds=-(-ns // NS_PER_US))


def retry_policy(spec: RetryPolicySpec | None, field: str) -> RetryPolicy | None:
    """A Go `*RetryPolicy` as a Python `RetryPolicy` (None when Go sent null)."""
    if spec is None:
        return None
    initial = duration(spec.initial_interval_ns, f"{field}.InitialInterval")
    maximum = duration(spec.maximum_interval_ns, f"{field}.MaximumInterval")
    backoff = spec.backoff_coefficient or DEFAULT_BACKOFF
    if backoff < 1:
        raise OptionsError(
            f"{field}.BackoffCoefficient", f"must be 0 (default 2.0) or at least 1, got {backoff:g}"
        )
    if spec.maximum_attempts < 0:
        raise OptionsError(
            f"{field}.MaximumAttempts",
            f"must be 0 (unlimited) or positive, got {spec.maximum_attempts}",
        )
    initial = initial or DEFAULT_INITIAL_INTERVAL
    if maximum is not None and maximum < initial:
        raise OptionsError(
            f"{field}.MaximumInterval",
            f"{spec.maximum_interval_ns} ns is less than InitialInterval",
        )
    return RetryPolicy(
        initial_interval=initial,
        backoff_coefficient=backoff,
        maximum_interval=maximum,
        maximum_attempts=spec.maximum_attempts,
        non_retryable_error_types=list(spec.non_retryable_error_types or ()) or None,
    )
