"""EmcoMigrateWorkflow: decides the migration steps; all I/O is in the activities.

Forward path (direct): GetDigAppIntents, SnapshotMigration, UpdateAppIntents, DoDigUpdate,
VerifyMigration. Make-before-break adds the target first (ApplyAppIntents, DoDigUpdate,
VerifyMigration) and removes the source after. Any failure after the first write, a
verification timeout or a cancellation runs the compensation: restore the recorded app
intents, roll the DIG back, verify the app is back. See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, FailureError

with workflow.unsafe.imports_passed_through():
    from emco_migrate.emcomigrate.activities import (
        KEY_BASE_REVISION,
        KEY_NEW_REVISION,
        MigrationActivities,
        decode_payload,
        encode_payload,
    )
    from emco_migrate.emcomigrate.messages import (
        AppExpectation,
        ApplyRequest,
        IntentWrite,
        PlanItem,
        RollbackRequest,
        Snapshot,
        SnapshotRequest,
        VerifyRequest,
    )
    from emco_migrate.emcomigrate.names import (
        ACTIVITY_APPLY_APP_INTENTS,
        ACTIVITY_DO_DIG_UPDATE,
        ACTIVITY_GET_DIG_APP_INTENTS,
        ACTIVITY_ROLLBACK,
        ACTIVITY_SNAPSHOT,
        ACTIVITY_UPDATE_APP_INTENTS,
        ACTIVITY_VERIFY,
        ALL_ACTIVITIES,
        QUERY_CURRENT_STATE,
        QUERY_PROGRESS,
        STATE_COMPLETED,
        STATE_STARTED,
        WORKFLOW_NAME,
    )
    from emco_migrate.emcomigrate.options import (
        HEARTBEAT_FLOOR,
        ActivitySettings,
        OptionsError,
        resolve_activity_options,
        verification_settings,
    )
    from emco_migrate.emcomigrate.plan import intent_refs
    from emco_migrate.emcomigrate.progress import AppStatus, Phase, Progress, Step
    from emco_migrate.emcomigrate.reversible import ReversibleMigrationActivities
    from emco_migrate.emcomigrate.types import ClusterRef, MigrationParams, ParamError, Strategy
    from emco_migrate.gowire import (
        AppIntentRef,
        MigParam,
        WireError,
        WorkflowParamsSpec,
        decode_workflow_params,
    )

ERROR_INVALID_PARAMS = "InvalidWorkflowParams"
ERROR_STEP_FAILED = "MigrationStepFailed"
ERROR_ROLLED_BACK = "MigrationRolledBack"
ERROR_ROLLBACK_FAILED = "MigrationRollbackFailed"

ALL_ACTIVITY_NAMES = (
    ACTIVITY_GET_DIG_APP_INTENTS,
    ACTIVITY_UPDATE_APP_INTENTS,
    ACTIVITY_DO_DIG_UPDATE,
    ACTIVITY_SNAPSHOT,
    ACTIVITY_APPLY_APP_INTENTS,
    ACTIVITY_VERIFY,
    ACTIVITY_ROLLBACK,
)

# Compensation steps must not give up after one EMCO hiccup: retried for several minutes.
COMPENSATION_SETTINGS = ActivitySettings(
    start_to_close_timeout=timedelta(minutes=1),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(seconds=30),
        maximum_attempts=20,
    ),
)

T = TypeVar("T")


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


def _cause(err: BaseException) -> str:
    """The innermost useful message, without the error-type prefixes."""
    if isinstance(err, ActivityError) and err.cause is not None:
        err = err.cause
    return err.message if isinstance(err, FailureError) else str(err)


@workflow.defn(name=WORKFLOW_NAME)
class EmcoMigrateWorkflow:
    """Migrates the apps of an EMCO deployment intent group to a target cluster."""

    def __init__(self) -> None:
        self._state = STATE_STARTED
        self._progress = Progress()
        self._options: dict[str, ActivitySettings] = {}

    @workflow.query(name=QUERY_CURRENT_STATE)
    def current_state(self) -> str:
        """``started``, then the running activity's name, then ``completed``; on failure
        it stays at the activity that failed."""
        return self._state

    @workflow.query(name=QUERY_PROGRESS)
    def progress(self) -> dict[str, Any]:
        """Per-app status, the plan, step timings and the revisions."""
        return self._progress.to_json()

    @workflow.run
    async def run(self, value: RawValue = None) -> RawValue:  # type: ignore[assignment]
        """Migrate, verify, and undo everything if that fails or is cancelled."""
        progress = self._progress
        try:
            params, mig, snapshot = await self._plan(value)
        except ApplicationError as err:
            progress.phase = Phase.FAILED
            progress.message = f"nothing was changed: {err.message}"
            raise
        except asyncio.CancelledError:
            progress.phase = Phase.CANCELLED
            progress.message = "cancelled before any change"
            raise
        if params.dry_run or snapshot.noop:
            progress.phase = Phase.DRY_RUN if params.dry_run else Phase.NO_OP
            progress.message = (
                f"dry run: planned {len(snapshot.items)} app intent(s); nothing was written"
                if params.dry_run
                else snapshot.note
            )
            return self._finish(mig)
        progress.phase = Phase.MIGRATING
        try:
            await self._migrate(params, snapshot, mig)
        except asyncio.CancelledError:
            summary = await self._undo(params, snapshot, "the workflow was cancelled")
            progress.phase = Phase.CANCELLED
            raise CancelledError(summary) from None
        except (ActivityError, ApplicationError) as err:
            # _step's errors already name the step ("VerifyMigration failed: ...").
            failure = (
                _cause(err)
                if isinstance(err, ApplicationError) and err.type == ERROR_STEP_FAILED
                else f"{self._state} failed: {_cause(err)}"
            )
            summary = await self._undo(params, snapshot, failure)
            raise ApplicationError(
                summary,
                type=(
                    ERROR_ROLLED_BACK
                    if progress.phase is Phase.ROLLED_BACK
                    else ERROR_ROLLBACK_FAILED
                ),
                non_retryable=True,
            ) from err
        progress.phase = Phase.COMPLETED
        progress.message = f"migrated {len(snapshot.items)} app intent(s) to {params.target}"
        progress.mark(AppStatus.DONE)
        return self._finish(mig)

    async def _plan(self, value: RawValue | None) -> tuple[MigrationParams, MigParam, Snapshot]:
        """Decode and validate the input, find the app intents, snapshot and plan."""
        spec = decode_input(value)
        try:
            configured = resolve_activity_options(spec.activity_options, ALL_ACTIVITY_NAMES)
            self._options = {name: s.with_heartbeat_floor() for name, s in configured.items()}
            raised = sorted(n for n in configured if configured[n] != self._options[n])
            if raised:
                workflow.logger.warning(
                    "HeartbeatTimeout of %s raised to the %s floor",
                    ", ".join(raised),
                    HEARTBEAT_FLOOR,
                )
            params = MigrationParams.from_activity_params(spec.activity_params)
            self._options[ACTIVITY_VERIFY] = verification_settings(
                self._options[ACTIVITY_VERIFY], params.verify_timeout_seconds
            )
        except (OptionsError, ParamError) as err:
            raise _invalid(f"invalid workflow parameters: {err}", err.field) from err
        self._progress.params = params
        mig = MigParam(in_params=(spec.activity_params or {}).get(ALL_ACTIVITIES))
        mig = await self._go_step(
            ACTIVITY_GET_DIG_APP_INTENTS, MigrationActivities.get_dig_app_intents, mig
        )
        snapshot = await self._step(
            ACTIVITY_SNAPSHOT,
            ReversibleMigrationActivities.snapshot,
            SnapshotRequest(params, intent_refs(mig.app_intents)),
        )
        self._progress.planned(snapshot)
        return params, mig, snapshot

    def _finish(self, mig: MigParam) -> RawValue:
        self._state = STATE_COMPLETED
        workflow.set_current_details(self._progress.message)
        extensions = {
            k: v
            for k, v in mig.extensions.items()
            if k not in (KEY_NEW_REVISION, KEY_BASE_REVISION)
        }
        extensions.update(self._progress.to_json())
        return encode_payload(replace(mig, extensions=extensions))

    async def _migrate(self, params: MigrationParams, snapshot: Snapshot, mig: MigParam) -> None:
        progress = self._progress
        selected = _only_planned(mig, snapshot)
        revision = snapshot.revision
        if params.strategy is Strategy.MAKE_BEFORE_BREAK:
            progress.mark(AppStatus.UPDATING)
            await self._step(
                ACTIVITY_APPLY_APP_INTENTS,
                ReversibleMigrationActivities.apply_app_intents,
                ApplyRequest(params.dig, _writes(snapshot.items, interim=True)),
            )
            selected, revision = await self._update(selected, revision)
            await self._verify(params, snapshot, revision, keep_sources=True)
        progress.mark(AppStatus.UPDATING)
        selected = await self._go_step(
            ACTIVITY_UPDATE_APP_INTENTS, MigrationActivities.update_app_intents, selected
        )
        selected, revision = await self._update(selected, revision)
        await self._verify(params, snapshot, revision, keep_sources=False)

    async def _update(self, mig: MigParam, base_revision: int) -> tuple[MigParam, int]:
        """DoDigUpdate guarded by ``base_revision``; the result and the new revision."""
        guarded = replace(mig, extensions={**mig.extensions, KEY_BASE_REVISION: base_revision})
        result = await self._go_step(
            ACTIVITY_DO_DIG_UPDATE, MigrationActivities.do_dig_update, guarded
        )
        new_revision = result.extensions.get(KEY_NEW_REVISION)
        # A Go worker's DoDigUpdate does not report the revision; EMCO allocates base + 1.
        revision = new_revision if isinstance(new_revision, int) else base_revision + 1
        self._progress.new_revision = revision
        return result, revision

    async def _verify(
        self,
        params: MigrationParams,
        snapshot: Snapshot,
        revision: int,
        *,
        keep_sources: bool,
    ) -> None:
        self._progress.mark(AppStatus.VERIFYING)
        expectations = tuple(
            AppExpectation(
                app=item.app,
                ready_on=(params.target,),
                absent_from=() if keep_sources else _sources(item, params),
            )
            for item in snapshot.items
        )
        await self._step(
            ACTIVITY_VERIFY,
            ReversibleMigrationActivities.verify,
            self._verify_request(params, revision, expectations, "migration"),
        )

    def _verify_request(
        self,
        params: MigrationParams,
        revision: int,
        expectations: tuple[AppExpectation, ...],
        purpose: str,
    ) -> VerifyRequest:
        deadline = workflow.now() + timedelta(seconds=params.verify_timeout_seconds)
        return VerifyRequest(
            dig=params.dig,
            revision=revision,
            expectations=expectations,
            deadline_epoch=deadline.timestamp(),
            purpose=purpose,
            timeout_seconds=params.verify_timeout_seconds,
        )

    async def _undo(self, params: MigrationParams, snapshot: Snapshot, failure: str) -> str:
        """Run the compensation to completion even if cancelled again; returns the summary."""
        task = asyncio.create_task(self._compensate(params, snapshot, failure))
        while True:
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                workflow.logger.warning("cancel requested during compensation; finishing it")

    async def _compensate(self, params: MigrationParams, snapshot: Snapshot, failure: str) -> str:
        progress = self._progress
        progress.phase = Phase.COMPENSATING
        workflow.logger.warning("migration failed (%s); undoing it", failure)
        apps = ", ".join(sorted({item.app for item in snapshot.items}))
        try:
            await self._step(
                ACTIVITY_APPLY_APP_INTENTS,
                ReversibleMigrationActivities.apply_app_intents,
                ApplyRequest(params.dig, _writes(snapshot.items, interim=False)),
                settings=COMPENSATION_SETTINGS,
                forward=False,
            )
            progress.undone.append(f"restored the app intents of {apps}")
            rolled = await self._step(
                ACTIVITY_ROLLBACK,
                ReversibleMigrationActivities.rollback,
                RollbackRequest(
                    params.dig, snapshot.revision, snapshot.context, f"emco-migrate: {failure}"
                ),
                settings=COMPENSATION_SETTINGS,
                forward=False,
            )
            if rolled.method == "none":
                progress.undone.append("the DIG was never updated: no rollback needed")
            else:
                progress.undone.append(
                    f"rolled the DIG back to revision {snapshot.revision}'s context "
                    f"(now revision {rolled.revision}, via /{rolled.method})"
                )
            expectations = tuple(
                AppExpectation(
                    app=item.app,
                    ready_on=item.current_clusters,
                    absent_from=() if params.target in item.current_clusters else (params.target,),
                )
                for item in snapshot.items
                if item.current_clusters
            )
            if expectations:
                await self._step(
                    ACTIVITY_VERIFY,
                    ReversibleMigrationActivities.verify,
                    self._verify_request(params, rolled.revision, expectations, "rollback"),
                    forward=False,
                )
                where = "; ".join(
                    f"{e.app} on {', '.join(str(c) for c in e.ready_on)}" for e in expectations
                )
                progress.undone.append(f"verified Ready again: {where}")
        except (ActivityError, ApplicationError) as err:
            progress.phase = Phase.FAILED
            progress.mark(AppStatus.FAILED)
            progress.message = (
                f"{failure}; undoing it failed too: {_cause(err)}. Done so far: "
                f"{'; '.join(progress.undone) or 'nothing'}. Check the DIG's app intents and "
                f"revision {snapshot.revision} by hand."
            )
        else:
            progress.phase = Phase.ROLLED_BACK
            progress.mark(AppStatus.ROLLED_BACK)
            progress.message = f"{failure}; undone: {'; '.join(progress.undone)}"
        workflow.upsert_memo({"outcome": progress.message})
        workflow.set_current_details(progress.message)
        return progress.message

    async def _go_step(
        self,
        name: str,
        method: Callable[[Any, RawValue], Awaitable[RawValue]],
        mig: MigParam,
    ) -> MigParam:
        return decode_payload(await self._step(name, method, encode_payload(mig)))

    async def _step(
        self,
        name: str,
        method: Callable[[Any, Any], Awaitable[T]],
        argument: Any,
        *,
        settings: ActivitySettings | None = None,
        forward: bool = True,
    ) -> T:
        """Run one activity, tracking current-state (forward steps only) and timings."""
        if forward:
            self._state = name
        step = Step(name, workflow.now())
        self._progress.steps.append(step)
        workflow.set_current_details(f"{self._progress.phase.value}: {name}")
        try:
            result: T = await workflow.execute_activity_method(
                method, argument, **(settings or self._options[name]).kwargs()
            )
        except asyncio.CancelledError:
            step.outcome = "cancelled"
            raise
        except ActivityError as err:
            if isinstance(err.cause, CancelledError):
                step.outcome = "cancelled"
                raise asyncio.CancelledError(str(err.cause)) from err
            step.outcome = "failed"
            raise ApplicationError(
                f"{name} failed: {_cause(err)}", type=ERROR_STEP_FAILED, non_retryable=True
            ) from err
        finally:
            step.finished = workflow.now()
        if step.outcome == "running":
            step.outcome = "ok"
        return result


def _only_planned(mig: MigParam, snapshot: Snapshot) -> MigParam:
    """The MigParam whose AppNameIntentPairs hold only the planned app intents."""
    pairs: dict[str, list[AppIntentRef]] = {}
    for item in snapshot.items:
        pairs.setdefault(item.placement_intent, []).append(AppIntentRef(item.app, item.app_intent))
    return replace(mig, app_intents={gpi: tuple(refs) for gpi, refs in pairs.items()})


def _sources(item: PlanItem, params: MigrationParams) -> tuple[ClusterRef, ...]:
    return tuple(c for c in item.current_clusters if c != params.target)


def _writes(items: tuple[PlanItem, ...], *, interim: bool) -> tuple[IntentWrite, ...]:
    """App intent bodies to PUT: the interim placement, or the recorded originals."""
    writes = []
    for item in items:
        body = item.original
        if interim and item.interim_intent is not None:
            spec = {**(body.get("spec") or {}), "intent": item.interim_intent}
            body = {**body, "spec": spec}
        writes.append(IntentWrite(item.placement_intent, item.app_intent, body))
    return tuple(writes)
