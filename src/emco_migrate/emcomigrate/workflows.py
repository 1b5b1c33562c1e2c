"""EmcoMigrateWorkflow: decides the migration steps; all I/O is in the activities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from emco_migrate.emcomigrate.activities import (
        MigrationActivities,
        decode_payload,
        encode_payload,
    )
    from emco_migrate.emcomigrate.names import (
        ACTIVITY_DO_DIG_UPDATE,
        ACTIVITY_GET_DIG_APP_INTENTS,
        ACTIVITY_UPDATE_APP_INTENTS,
        QUERY_CURRENT_STATE,
        STATE_COMPLETED,
        STATE_STARTED,
        WORKFLOW_NAME,
    )
    from emco_migrate.emcomigrate.options import (
        ActivitySettings,
        OptionsError,
        resolve_activity_options,
    )
    from emco_migrate.emcomigrate.types import MigrationParams, ParamError
    from emco_migrate.gowire import MigParam, WireError, WorkflowParamsSpec, decode_workflow_params

ERROR_INVALID_PARAMS = "InvalidWorkflowParams"
ERROR_STEP_FAILED = "MigrationStepFailed"


def _invalid(message: str, field: str | None = None) -> ApplicationError:
    return ApplicationError(
        message, {"field": field} if field else None, type=ERROR_INVALID_PARAMS, non_retryable=True
    )


def decode_input(value: RawValue | None) -> WorkflowParamsSpec:
    """The workflow input (`*WorkflowParams` as json/plain), decoded with Go's rules."""
    if value is None:
        raise _invalid("workflow input is missing; expected a WorkflowParams JSON object")
    encoding = value.payload.metadata.get("encoding", b"").decode(errors="replace")
    if encoding == "binary/null":
        raise _invalid("workflow input is null; expected a WorkflowParams JSON object")
    if encoding != "json/plain":
        raise _invalid(f"workflow input has encoding {encoding!r}; expected json/plain")
    try:
        return decode_workflow_params(value.payload.data)
    except WireError as err:
        raise _invalid(f"invalid workflow input: {err}", err.field) from err


@workflow.defn(name=WORKFLOW_NAME)
class EmcoMigrateWorkflow:
    """Migrates the apps of an EMCO deployment intent group to a target cluster."""

    def __init__(self) -> None:
        self._state = STATE_STARTED

    @workflow.query(name=QUERY_CURRENT_STATE)
    def current_state(self) -> str:
        """``started``, then the running activity's name, then ``completed``."""
        return self._state

    @workflow.run
    async def run(self, value: RawValue = None) -> RawValue:  # type: ignore[assignment]
        """Run GetDigAppIntents, UpdateAppIntents and DoDigUpdate, in the Go order."""
        spec = decode_input(value)
        try:
            options = resolve_activity_options(spec.activity_options)
            params = MigrationParams.from_activity_params(spec.activity_params)
        except (OptionsError, ParamError) as err:
            raise _invalid(f"invalid workflow parameters: {err}", err.field) from err
        workflow.logger.info("migrating DIG %s to %s", params.dig.dig, params.target)
        mig = MigParam(in_params=(spec.activity_params or {}).get("all-activities"))
        for name, method in (
            (ACTIVITY_GET_DIG_APP_INTENTS, MigrationActivities.get_dig_app_intents),
            (ACTIVITY_UPDATE_APP_INTENTS, MigrationActivities.update_app_intents),
            (ACTIVITY_DO_DIG_UPDATE, MigrationActivities.do_dig_update),
        ):
            mig = await self._step(name, method, mig, options[name])
        self._state = STATE_COMPLETED
        return encode_payload(mig)

    async def _step(
        self,
        name: str,
        method: Callable[[Any, RawValue], Awaitable[RawValue]],
        mig: MigParam,
        settings: ActivitySettings,
    ) -> MigParam:
        self._state = name
        try:
            result = await workflow.execute_activity_method(
                method,
                encode_payload(mig),
                **settings.kwargs(),
            )
        except ActivityError as err:
            cause = err.cause if err.cause is not None else err
            raise ApplicationError(
                f"{name} failed: {cause}", type=ERROR_STEP_FAILED, non_retryable=True
            ) from err
        return decode_payload(result)
