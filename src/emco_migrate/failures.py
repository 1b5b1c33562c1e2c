"""Failures as Temporal stores them: short messages, no tracebacks, a bounded cause chain.

Temporal keeps an activity's last failure and a workflow's failure in the history and shows
them to operators (`status`, the UI, EMCO's workflowmgr). The SDK's default converter puts
the Python traceback of every exception in the chain into ``stack_trace``; a few nested
EMCO errors then exceed the server's failure size limit and the operator reads "Failure
exceeds size limit." instead of the reason. Messages say what happened; code locations go
to the worker's log.
"""

from __future__ import annotations

import dataclasses

from temporalio.api.failure.v1 import Failure
from temporalio.converter import DataConverter, DefaultFailureConverter, PayloadConverter

MAX_MESSAGE_CHARS = 2_000
MAX_CAUSE_DEPTH = 4


class ShortFailureConverter(DefaultFailureConverter):
    """The default conversion, then tracebacks dropped, messages and the chain bounded."""

    def to_failure(
        self, exception: BaseException, payload_converter: PayloadConverter, failure: Failure
    ) -> None:
        super().to_failure(exception, payload_converter, failure)
        shorten(failure)


def shorten(failure: Failure, depth: int = 0) -> None:
    """Drop ``stack_trace``, cut long messages and causes past `MAX_CAUSE_DEPTH` (in place)."""
    failure.stack_trace = ""
    if len(failure.message) > MAX_MESSAGE_CHARS:
        failure.message = failure.message[: MAX_MESSAGE_CHARS - 1] + "…"
    if not failure.HasField("cause"):
        return
    if depth + 1 >= MAX_CAUSE_DEPTH:
        failure.ClearField("cause")
        return
    shorten(failure.cause, depth + 1)


DATA_CONVERTER = dataclasses.replace(
    DataConverter.default, failure_converter_class=ShortFailureConverter
)
