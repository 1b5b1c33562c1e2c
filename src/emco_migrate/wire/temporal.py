"""EMCO's Temporal specs and the Go reference's `MigParam`, declared once (`wire.structs`).

EMCO's workflowmgr and the Go reference client encode Temporal SDK v1.13.1 structs, which have
no JSON tags: keys are Go field names, durations integer nanoseconds, every field always
emitted. EMCO's own wrappers (`WfTemporalSpec`, `WorkflowParams`) have tags, and
`workflowParams` is emitted even when empty (``omitempty`` does nothing on a struct value),
while its two maps are left out when nil or empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue

from emco_migrate.wire.gojson import FieldError, dump_bytes, parse
from emco_migrate.wire.structs import GoStruct, extensions, go, unknown_keys


@dataclass(frozen=True)
class RetryPolicySpec(GoStruct):
    """`temporal.RetryPolicy` as Go sends it; 0 means "unset" everywhere."""

    GO_NAME: ClassVar[str] = "temporal.RetryPolicy"

    initial_interval_ns: int = field(default=0, metadata=go("InitialInterval", kind="duration"))
    backoff_coefficient: float = field(default=0.0, metadata=go("BackoffCoefficient"))
    maximum_interval_ns: int = field(default=0, metadata=go("MaximumInterval", kind="duration"))
    maximum_attempts: int = field(default=0, metadata=go("MaximumAttempts", kind="int32"))
    non_retryable_error_types: tuple[str, ...] | None = field(
        default=None, metadata=go("NonRetryableErrorTypes")
    )
    # Keys Go's decoder drops; emco-migrate refuses them in activity options.
    unknown_keys: tuple[str, ...] = field(
        default=(), compare=False, repr=False, metadata=unknown_keys()
    )


@dataclass(frozen=True)
class ActivityOptionsSpec(GoStruct):
    """`workflow.ActivityOptions` as Go sends it."""

    GO_NAME: ClassVar[str] = "workflow.ActivityOptions"

    task_queue: str = field(default="", metadata=go("TaskQueue"))
    schedule_to_close_ns: int = field(
        default=0, metadata=go("ScheduleToCloseTimeout", kind="duration")
    )
    schedule_to_start_ns: int = field(
        default=0, metadata=go("ScheduleToStartTimeout", kind="duration")
    )
    start_to_close_ns: int = field(default=0, metadata=go("StartToCloseTimeout", kind="duration"))
    heartbeat_ns: int = field(default=0, metadata=go("HeartbeatTimeout", kind="duration"))
    wait_for_cancellation: bool = field(default=False, metadata=go("WaitForCancellation"))
    activity_id: str = field(default="", metadata=go("ActivityID"))
    retry_policy: RetryPolicySpec | None = field(default=None, metadata=go("RetryPolicy"))
    # Keys Go's decoder drops; emco-migrate refuses them (`options.ActivitySettings`).
    unknown_keys: tuple[str, ...] = field(
        default=(), compare=False, repr=False, metadata=unknown_keys()
    )


@dataclass(frozen=True)
class StartOptionsSpec(GoStruct):
    """`client.StartWorkflowOptions` as Go sends it."""

    GO_NAME: ClassVar[str] = "client.StartWorkflowOptions"

    id: str = field(default="", metadata=go("ID"))
    task_queue: str = field(default="", metadata=go("TaskQueue"))
    execution_timeout_ns: int = field(
        default=0, metadata=go("WorkflowExecutionTimeout", kind="duration")
    )
    run_timeout_ns: int = field(default=0, metadata=go("WorkflowRunTimeout", kind="duration"))
    task_timeout_ns: int = field(default=0, metadata=go("WorkflowTaskTimeout", kind="duration"))
    id_reuse_policy: int = field(
        default=0,
        metadata=go(
            "WorkflowIDReusePolicy", kind="int32", what="an integer WorkflowIdReusePolicy (0-3)"
        ),
    )
    error_when_already_started: bool = field(
        default=False, metadata=go("WorkflowExecutionErrorWhenAlreadyStarted")
    )
    retry_policy: RetryPolicySpec | None = field(default=None, metadata=go("RetryPolicy"))
    cron_schedule: str = field(default="", metadata=go("CronSchedule"))
    memo: dict[str, Any] | None = field(default=None, metadata=go("Memo"))
    search_attributes: dict[str, Any] | None = field(default=None, metadata=go("SearchAttributes"))


@dataclass(frozen=True)
class WorkflowParamsSpec(GoStruct):
    """EMCO's `WorkflowParams`: per-activity options and string parameters."""

    GO_NAME: ClassVar[str] = "emcotemporalapi.WorkflowParams"

    activity_options: dict[str, ActivityOptionsSpec] | None = field(
        default=None, metadata=go("activityOptions", omitempty=True)
    )
    activity_params: dict[str, dict[str, str] | None] | None = field(
        default=None, metadata=go("activityParams", omitempty=True)
    )


@dataclass(frozen=True)
class TemporalSpec(GoStruct):
    """EMCO's `WfTemporalSpec`: the body workflowmgr POSTs to ``/invoke/{client}``."""

    GO_NAME: ClassVar[str] = "emcotemporalapi.WfTemporalSpec"

    workflow_client_name: str = field(default="", metadata=go("workflowClientName"))
    start_options: StartOptionsSpec = field(
        default=StartOptionsSpec(), metadata=go("workflowStartOptions")
    )
    params: WorkflowParamsSpec = field(
        default=WorkflowParamsSpec(), metadata=go("workflowParams", omitempty=True)
    )


def decode_workflow_params(data: bytes | str) -> WorkflowParamsSpec:
    """Decode the workflow input payload (`*WorkflowParams`); raises `FieldError`."""
    value = parse(data)
    if value is None:
        raise FieldError("", "workflow input is null; expected a WorkflowParams object")
    return WorkflowParamsSpec.decode(value)


@dataclass(frozen=True)
class AppIntentRef(GoStruct):
    """`AppNameIntentPair`: an app and the name of its placement intent."""

    GO_NAME: ClassVar[str] = "AppNameIntentPair"

    app: str = field(default="", metadata=go("AppName"))
    intent: str = field(default="", metadata=go("AppIntentName"))


@dataclass(frozen=True)
class MigParam(GoStruct):
    """The Go reference's activity input/output and workflow result (`MigParam`).

    ``extensions`` carries this implementation's additional result fields; they are emitted
    after the Go fields, which Go readers ignore.
    """

    GO_NAME: ClassVar[str] = "MigParam"

    in_params: dict[str, str] | None = field(default=None, metadata=go("InParams"))
    placement_intents_url: str = field(default="", metadata=go("GenericPlacementIntentURL"))
    placement_intents: tuple[str, ...] | None = field(
        default=None, metadata=go("GenericPlacementIntents")
    )
    app_intents: dict[str, tuple[AppIntentRef, ...] | None] | None = field(
        default=None, metadata=go("AppNameIntentPairs")
    )
    extensions: dict[str, Any] = field(default_factory=dict, metadata=extensions())


def workflow_input(params: WorkflowParamsSpec) -> RawValue:
    """The workflow input as Go's client sends it: the `WorkflowParams` bytes, json/plain."""
    return RawValue(Payload(metadata={"encoding": b"json/plain"}, data=dump_bytes(params.encode())))
