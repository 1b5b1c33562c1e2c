"""Log lines of every command: text (the default) or JSON, one line per record, no colour.

Records from the Temporal SDK's workflow and activity loggers carry the run they belong to
(``temporal_workflow`` / ``temporal_activity``); both formats show it as fields (workflow ID,
run ID, activity, attempt) instead of the SDK's dict repr on the message. A migration's
records also name its DIG (project, composite app, version, DIG): an activity's once its
request is decoded (`bind_dig`), the workflow's through `with_dig`. Temporal's core (the
Rust part) logs through Python's logging too (`telemetry`), so nothing writes terminal colour
codes into a log file. Below DEBUG, a record with a traceback from the SDK (an activity attempt
that failed and will be retried) is one line: the message and the error, without the
traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

if TYPE_CHECKING:  # temporalio is imported when used: `emco-migrate --help` stays fast
    from temporalio.runtime import PrometheusConfig, TelemetryConfig

FORMATS = ("text", "json")
LOG_FORMAT_VARIABLE = "EMCO_MIGRATE_LOG_FORMAT"
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A workflow record's DIG (`with_dig`), a LogRecord attribute like the SDK's.
DIG_EXTRA = "emco_dig"
# The SDK's own record attributes (and ours), shown as the fields of `run_fields` instead.
_SDK_ATTRS = (
    "temporal_workflow",
    "temporal_activity",
    "temporal_log",
    "__temporal_error_identifier",
    DIG_EXTRA,
)
# The DIG of the activity running in this asyncio task (each activity runs in a task of its
# own, and the SDK logs the attempt's outcome from it too).
_activity_dig: ContextVar[Mapping[str, str] | None] = ContextVar("activity_dig", default=None)


class DigName(Protocol):
    """A deployment intent group's full name (`emcomigrate.types.DigRef`)."""

    @property
    def project(self) -> str: ...
    @property
    def composite_app(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def dig(self) -> str: ...


def dig_fields(dig: DigName) -> dict[str, str]:
    """The DIG as log fields."""
    return {
        "project": dig.project,
        "compositeApp": dig.composite_app,
        "compositeAppVersion": dig.version,
        "dig": dig.dig,
    }


def bind_dig(dig: DigName) -> None:
    """Name ``dig`` in every later record of the activity running now."""
    _activity_dig.set(dig_fields(dig))


def with_dig(logger: logging.LoggerAdapter[Any], dig: DigName) -> logging.LoggerAdapter[Any]:
    """``logger`` (a workflow's) with ``dig`` on each of its records."""
    return logging.LoggerAdapter(logger, {DIG_EXTRA: dig_fields(dig)})


def run_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The workflow run (and activity) a record belongs to, by name: from the SDK's loggers'
    details, or, for our own modules' loggers, from the activity running the code."""
    act = getattr(record, "temporal_activity", None)
    if act is None and "temporalio.activity" in sys.modules:
        from temporalio import activity

        if activity.in_activity():
            info = activity.info()
            act = {
                "workflow_id": info.workflow_id,
                "workflow_run_id": info.workflow_run_id,
                "activity_type": info.activity_type,
                "attempt": info.attempt,
            }
    if isinstance(act, dict):
        return {
            "workflowId": act.get("workflow_id"),
            "runId": act.get("workflow_run_id"),
            "activity": act.get("activity_type"),
            "attempt": act.get("attempt"),
            **(_activity_dig.get() or {}),
        }
    flow = getattr(record, "temporal_workflow", None)
    if isinstance(flow, dict):
        dig = getattr(record, DIG_EXTRA, None)
        return {
            "workflowId": flow.get("workflow_id"),
            "runId": flow.get("run_id"),
            "workflowType": flow.get("workflow_type"),
            **(dig if isinstance(dig, Mapping) else {}),
        }
    return {}


def _one_line(record: logging.LogRecord, tracebacks: bool) -> logging.LogRecord:
    """The record to format: a copy whose traceback is folded into the message when
    tracebacks are off and it comes from the SDK."""
    if tracebacks or not record.exc_info or not record.name.startswith("temporalio"):
        return record
    err = record.exc_info[1]
    copy = logging.makeLogRecord(record.__dict__)
    copy.msg, copy.args = f"{record.getMessage()}: {type(err).__name__}: {err}", None
    copy.exc_info, copy.exc_text = None, None
    return copy


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message [workflow=... run=... activity=... attempt=...
    dig=PROJECT/APP/VERSION/DIG]``."""

    def __init__(self, tracebacks: bool) -> None:
        super().__init__(TEXT)
        self._tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(_one_line(record, self._tracebacks))
        fields = run_fields(record)
        if "dig" in fields:  # one field, as evacuation reports name a DIG
            parts = ("project", "compositeApp", "compositeAppVersion")
            fields["dig"] = "/".join([*(str(fields.pop(p, "")) for p in parts), fields["dig"]])
        if fields:
            names = {"workflowId": "workflow", "runId": "run", "workflowType": "type"}
            shown = " ".join(f"{names.get(k, k)}={v}" for k, v in fields.items() if v is not None)
            line += f" [{shown}]"
        return line


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, the run's
    fields, any ``extra`` given, and ``exc_info`` when there is a traceback."""

    def __init__(self, tracebacks: bool) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, *_SDK_ATTRS],
        )
        self._tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        return super().format(_one_line(record, self._tracebacks))

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data.update(run_fields(record))


_format = "text"


def announce(logger: logging.Logger, message: str) -> None:
    """A line for whoever waits on this process (e.g. ``polling QUEUE on ...``): printed on
    stdout in text format; in JSON format a record like any other, so every line parses."""
    if _format == "json":
        logger.info("%s", message)
    else:
        print(message, flush=True)


def configure(level: str, fmt: str, *, own_process: bool = True) -> None:
    """Send every record at ``level`` and above to stderr in format ``fmt`` (`FORMATS`).
    Unless ``own_process``, handlers already on the root logger (a test's) are kept."""
    global _format
    _format = fmt
    tracebacks = level == "DEBUG"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonLineFormatter(tracebacks) if fmt == "json" else TextFormatter(tracebacks)
    )
    logging.basicConfig(level=getattr(logging, level), handlers=[handler], force=own_process)
    # The run's details are fields of the line, not a dict repr appended to the message.
    from temporalio import activity, workflow

    activity.logger.activity_info_on_message = False
    workflow.logger.workflow_info_on_message = False
    if level != "DEBUG":
        # httpx logs every request at INFO; our own messages say what matters.
        logging.getLogger("httpx").setLevel(logging.WARNING)


def telemetry(metrics: PrometheusConfig | None = None) -> TelemetryConfig:
    """The Temporal runtime's telemetry: core warnings through Python's logging (so they take
    the configured format), and ``metrics`` if given."""
    from temporalio.runtime import (
        LogForwardingConfig,
        LoggingConfig,
        TelemetryConfig,
        TelemetryFilter,
    )

    forwarding = LogForwardingConfig(logger=logging.getLogger("temporalio.core"))
    return TelemetryConfig(
        logging=LoggingConfig(
            filter=TelemetryFilter(core_level="WARN", other_level="WARN"), forwarding=forwarding
        ),
        metrics=metrics,
    )
