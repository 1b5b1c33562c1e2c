"""EmcoMigrateWorkflow: decides the migration steps; all I/O is in the activities.

Forward path (direct): GetDigAppIntents, SnapshotMigration, UpdateAppIntents, DoDigUpdate,
VerifyMigration. Make-before-break adds the target first (ApplyAppIntents, DoDigUpdate,
VerifyMigration) and removes the source after. Any failure after the first write, a
verification timeout or a cancellation runs the compensation: restore the recorded app
intents, roll the DIG back, verify the app is back. See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    FailureError,
    TimeoutError,
    TimeoutType,
    WorkflowAlreadyStartedError,
)
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from emco_migrate import logs
    from emco_migrate.emcomigrate import search_attributes as sa
    from emco_migrate.emcomigrate.activities import (
        KEY_ATTEMPT,
        KEY_BASE_REVISION,
        KEY_NEW_REVISION,
        MigrationActivities,
        decode_payload,
        encode_payload,
    )
    from emco_migrate.emcomigrate.dig_lock import DigLockWorkflow, lock_id
    from emco_migrate.emcomigrate.error_types import ErrorType
    from emco_migrate.emcomigrate.guards import placement_text
    from emco_migrate.emcomigrate.interruption import from_details
    from emco_migrate.emcomigrate.messages import (
        AppExpectation,
        ApplyRequest,
        ConfirmRequest,
        IntentWrite,
        PlanItem,
        RollbackMethod,
        RollbackRequest,
        Snapshot,
        SnapshotRequest,
        VerifyRequest,
        VerifyResult,
    )
    from emco_migrate.emcomigrate.metrics import MigrationMetrics
    from emco_migrate.emcomigrate.names import (
        ACTIVITY_APPLY_APP_INTENTS,
        ACTIVITY_CONFIRM_RESTORED,
        ACTIVITY_DO_DIG_UPDATE,
        ACTIVITY_GET_DIG_APP_INTENTS,
        ACTIVITY_ROLLBACK,
        ACTIVITY_SNAPSHOT,
        ACTIVITY_UPDATE_APP_INTENTS,
        ACTIVITY_VERIFY,
        ALL_ACTIVITIES,
        ALL_ACTIVITY_NAMES,
        QUERY_CURRENT_STATE,
        QUERY_PROGRESS,
        STATE_COMPLETED,
        STATE_STARTED,
        WORKFLOW_NAME,
    )
    from emco_migrate.emcomigrate.options import (
        HEARTBEAT_FLOOR,
        ActivitySettings,
        resolve_activity_options,
        verification_settings,
    )
    from emco_migrate.emcomigrate.plan import intent_refs, placement
    from emco_migrate.emcomigrate.progress import AppStatus, Phase, Progress, Step, StepOutcome
    from emco_migrate.emcomigrate.reversible import ReversibleMigrationActivities
    from emco_migrate.emcomigrate.types import ClusterRef, MigrationParams, ParamError, Strategy
    from emco_migrate.wire.gojson import FieldError
    from emco_migrate.wire.options import OptionsError
    from emco_migrate.wire.temporal import (
        AppIntentRef,
        MigParam,
        WorkflowParamsSpec,
        decode_workflow_params,
    )


# Behaviour added for correctness under faults (the DIG lock, the compensation's checks and
# final read-back): runs started before it replay without it (docs/ARCHITECTURE.md).
PATCH_FAULT_SAFETY = "fault-safety-1"
# Strict input (the declared parameter schema, our task queue only) and no workflow task
# that fails forever: an unexpected error in this code fails the run instead.
PATCH_STRICT_INPUT = "strict-input-1"
# Runs set the custom search attributes (`search_attributes`) and end with their outcome in
# memo, so `list` and Temporal's UI filter and read them without replaying.
PATCH_SEARCH_ATTRIBUTES = "search-attributes-1"
# Lighter runs (issue 14): the DIG lock is released by the run closing (the lock's parent
# close policy) rather than by a release signal, whose acknowledgement and the lock's second
# workflow task cost Temporal about 10 ms of CPU per migration.
PATCH_LIGHTER_RUN = "lighter-run-1"

# Compensation steps must not give up after one EMCO hiccup: retried for several minutes
# (20 attempts, 1 s to 30 s apart: about 8 minutes); a worker that dies mid-step is noticed
# within the heartbeat timeout, not after the minute of start-to-close.
COMPENSATION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=20,
)
COMPENSATION_SETTINGS = ActivitySettings(
    start_to_close_timeout=timedelta(minutes=1),
    heartbeat_timeout=timedelta(seconds=10),
    retry_policy=COMPENSATION_RETRY,
)

T = TypeVar("T")


def _invalid(message: str, field: str | None = None) -> ApplicationError:
    return ApplicationError(
        message,
        {"field": field} if field else None,
        type=ErrorType.INVALID_PARAMS,
        non_retryable=True,
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
    except FieldError as err:
        raise _invalid(f"invalid workflow input: {err}", err.field) from err


_TIMEOUTS = {
    TimeoutType.SCHEDULE_TO_CLOSE: "gave up after its retry budget",
    TimeoutType.START_TO_CLOSE: "timed out",
    TimeoutType.HEARTBEAT: "stopped heartbeating (worker gone?)",
    TimeoutType.SCHEDULE_TO_START: "no worker picked it up",
}


def _cause(err: BaseException) -> str:
    """The innermost useful message, on one line, without the error-type prefixes."""
    if isinstance(err, ActivityError) and err.cause is not None:
        err = err.cause
    if isinstance(err, TimeoutError):
        what = _TIMEOUTS.get(err.type) if err.type is not None else None
        last = err.cause.message if isinstance(err.cause, FailureError) else ""
        return f"{what or err.message}: {last}" if last else (what or err.message)
    return err.message if isinstance(err, FailureError) else str(err)


def _evicted() -> bool:
    """Whether a CancelledError comes from the worker evicting the run (shutdown, cache
    pressure) rather than from a cancel request: the run goes on elsewhere, from its history,
    so its code must not go on here (a task started now would outlive the workflow)."""
    return workflow.cancellation_reason() is None


def _describe_bug(err: Exception) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text[:300]}" if text else type(err).__name__


def _error_type(err: BaseException) -> str | None:
    """The ApplicationError type behind an activity failure (None for timeouts etc.)."""
    while isinstance(err, ActivityError | ApplicationError):
        if isinstance(err, ApplicationError) and err.type != ErrorType.STEP_FAILED:
            return err.type
        if err.cause is None:
            return None
        err = err.cause
    return None


@workflow.defn(name=WORKFLOW_NAME)
class EmcoMigrateWorkflow:
    """Migrates the apps of an EMCO deployment intent group to a target cluster."""

    def __init__(self) -> None:
        self._state = STATE_STARTED
        self._progress = Progress()
        self._metrics = MigrationMetrics()
        self._options: dict[str, ActivitySettings] = {}
        self._safe = False
        self._strict = False
        self._lock: ChildWorkflowHandle[Any, Any] | None = None
        # The DIG revisions this run may have left: the snapshot's, then each update's
        # (both while an update's outcome is unknown).
        self._left: tuple[int, ...] = ()
        # Until when a write of this run that was in doubt (its attempt timed out, its worker
        # died, it failed) may still reach EMCO; the compensation's read-back waits for it.
        self._late_until: datetime | None = None
        # The workflow's logger; once the request is decoded, one that names its DIG.
        self._log: logging.LoggerAdapter[Any] = workflow.logger
        self._settle = timedelta(0)
        self._listed = False  # patch search-attributes-1
        self._lighter = False  # patch lighter-run-1
        # Per app, since when (Unix seconds) it may have changed without this run seeing it:
        # set when a step that moves apps starts, cleared by a verification that succeeded
        # (see interruption.py); absent while nothing this run did can be changing it.
        self._unobserved: dict[str, float] = {}

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
        self._safe = workflow.patched(PATCH_FAULT_SAFETY)
        self._strict = workflow.patched(PATCH_STRICT_INPUT)
        self._listed = workflow.patched(PATCH_SEARCH_ATTRIBUTES)
        self._lighter = workflow.patched(PATCH_LIGHTER_RUN)
        # Not `finally`: a worker evicting the run (shutdown, cache) closes this coroutine,
        # and no command may be issued then.
        try:
            result = await self._run(value)
        except asyncio.CancelledError:
            if _evicted():  # the worker drops the run from its cache: no command may follow
                raise
            await self._release()
            self._record_outcome()
            raise
        except FailureError:
            await self._release()
            self._record_outcome()
            raise
        except Exception as err:
            await self._release()
            if not self._strict:
                raise
            # Raised as is, it would fail the workflow task, retried forever without a word.
            error = self._internal_error(err)
            self._record_outcome()
            raise error from None
        await self._release()
        self._record_outcome()
        return result

    def _list_as(self, values: dict[str, str | list[str] | None]) -> None:
        """Set search attributes of this run (patch search-attributes-1)."""
        if self._listed:
            sa.upsert(values)

    def _record_outcome(self) -> None:
        """The final phase as a search attribute, and the outcome in memo."""
        if not self._listed:
            return
        progress = self._progress
        params, snapshot = progress.params, progress.snapshot
        sa.record_end(
            progress.phase.value,
            {
                "outcome": progress.message,
                "dig": params.dig.dig if params else None,
                "source": _source_clusters(snapshot) if snapshot else [],
                "target": str(params.target) if params else None,
            },
        )

    def _internal_error(self, err: Exception) -> ApplicationError:
        self._log.error("internal error in the migration workflow", exc_info=err)
        self._progress.phase = Phase.FAILED
        self._progress.message = f"internal error in the workflow: {_describe_bug(err)}"
        return ApplicationError(self._progress.message, type=ErrorType.INTERNAL, non_retryable=True)

    async def _run(self, value: RawValue | None) -> RawValue:
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
        self._left = (snapshot.revision,)
        try:
            await self._migrate(params, snapshot, mig)
        except asyncio.CancelledError:
            if _evicted():  # not a cancel: the run continues from its history elsewhere
                raise
            summary = await self._undo(params, snapshot, "the workflow was cancelled")
            if progress.phase is Phase.ROLLBACK_STOPPED:
                raise ApplicationError(
                    summary, type=ErrorType.ROLLBACK_STOPPED, non_retryable=True
                ) from None
            progress.phase = Phase.CANCELLED
            raise CancelledError(summary) from None
        except Exception as err:
            if not isinstance(err, ActivityError | ApplicationError) and not self._strict:
                raise
            # _step's errors already name the step ("VerifyMigration failed: ...").
            if isinstance(err, ApplicationError) and err.type == ErrorType.STEP_FAILED:
                failure = _cause(err)
            elif isinstance(err, ActivityError | ApplicationError):
                failure = f"{self._state} failed: {_cause(err)}"
            else:  # a bug here must still undo what was written
                self._log.error("internal error during %s", self._state, exc_info=err)
                failure = f"internal error in the workflow during {self._state}: "
                failure += _describe_bug(err)
            summary = await self._undo(params, snapshot, failure)
            raise ApplicationError(
                summary,
                type={
                    Phase.ROLLED_BACK: ErrorType.ROLLED_BACK,
                    Phase.ROLLBACK_STOPPED: ErrorType.ROLLBACK_STOPPED,
                }.get(progress.phase, ErrorType.ROLLBACK_FAILED),
                non_retryable=True,
            ) from None
        progress.phase = Phase.COMPLETED
        progress.message = f"migrated {len(snapshot.items)} app intent(s) to {params.target}"
        progress.mark(AppStatus.DONE)
        return self._finish(mig)

    async def _plan(self, value: RawValue | None) -> tuple[MigrationParams, MigParam, Snapshot]:
        """Decode and validate the input, lock the DIG, find the app intents, snapshot and
        plan."""
        spec = decode_input(value)
        try:
            # A TaskQueue of MIGRATION_TASK_Q means this run's own queue (the same queue for
            # every run started before queues were configurable: no patch is needed).
            configured = resolve_activity_options(
                spec.activity_options,
                ALL_ACTIVITY_NAMES,
                strict=self._strict,
                run_queue=workflow.info().task_queue,
            )
            self._options = {name: s.with_heartbeat_floor() for name, s in configured.items()}
            raised = sorted(n for n in configured if configured[n] != self._options[n])
            params = MigrationParams.from_activity_params(spec.activity_params, strict=self._strict)
            self._log = logs.with_dig(workflow.logger, params.dig)
            if raised:  # logged once the DIG is known, so the line names it
                self._log.warning(
                    "HeartbeatTimeout of %s raised to the %s floor",
                    ", ".join(raised),
                    HEARTBEAT_FLOOR,
                )
            verify = verification_settings(
                self._options[ACTIVITY_VERIFY], params.verify_timeout_seconds
            )
            budget = timedelta(seconds=params.step_budget_seconds)
            self._options = {n: s.with_budget(budget) for n, s in self._options.items()}
            self._settle = timedelta(seconds=params.write_settle_seconds)
            self._options[ACTIVITY_DO_DIG_UPDATE] = self._options[
                ACTIVITY_DO_DIG_UPDATE
            ].with_settle_time(self._settle)
            self._options[ACTIVITY_VERIFY] = verify.with_budget(
                budget + (verify.start_to_close_timeout or timedelta(0))
            )
        except (OptionsError, ParamError) as err:
            raise _invalid(f"invalid workflow parameters: {err}", err.field) from err
        self._progress.params = params
        parent = workflow.info().parent
        by_evacuation = parent and workflow.info().workflow_id.startswith(parent.workflow_id + "/")
        self._list_as(
            {
                sa.DIG.name: params.dig.dig,
                sa.PROJECT.name: params.dig.project,
                sa.TARGET_CLUSTER.name: str(params.target),
                sa.STRATEGY.name: params.strategy.value,
                sa.OUTCOME.name: sa.RUNNING,
                sa.EVACUATION_ID.name: parent.workflow_id if parent and by_evacuation else None,
            }
        )
        if self._safe and not params.dry_run:
            await self._acquire(params)
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
        self._list_as({sa.SOURCE_CLUSTERS.name: _source_clusters(snapshot)})
        return params, mig, snapshot

    async def _acquire(self, params: MigrationParams) -> None:
        """Start the DIG's lock workflow; refuse the run if another running run holds it."""
        lock = lock_id(params.dig)
        self._progress.message = f"locking DIG {params.dig.dig}"
        for _ in range(2):
            try:
                self._lock = await workflow.start_child_workflow(
                    DigLockWorkflow.run,
                    workflow.info().workflow_id,
                    id=lock,
                    parent_close_policy=ParentClosePolicy.TERMINATE,
                )
                return
            except WorkflowAlreadyStartedError:
                holder = await workflow.execute_activity_method(
                    ReversibleMigrationActivities.describe_dig_lock,
                    lock,
                    start_to_close_timeout=timedelta(seconds=10),
                    retry_policy=RetryPolicy(maximum_attempts=3),
                )
                if holder.running:
                    break
        by = f"run {holder.workflow_id}" if holder.workflow_id else f"the run holding {lock}"
        raise ApplicationError(
            f"DIG {params.dig.dig} is already being migrated by {by}; this run was "
            "refused before any change (wait for that run to end, or cancel it)",
            {"lock": lock, "holder": holder.workflow_id},
            type=ErrorType.DIG_LOCKED,
            non_retryable=True,
        )

    async def _release(self) -> None:
        """Let go of the DIG's lock: the run closing ends the lock workflow (its parent
        close policy), so nothing is sent; runs started before patch
        lighter-run-1 signal it."""
        self._metrics.ended(self._progress, final=self._strict)  # every end comes here
        lock, self._lock = self._lock, None
        if lock is None or self._lighter:
            return
        # Awaited here, not in a task of its own: a task still waiting for the signal when
        # the worker evicts the run outlived it (and hung its worker's event loop at exit).
        try:
            await lock.signal(DigLockWorkflow.release)
        except asyncio.CancelledError:
            if _evicted():
                raise
            # A cancel request while signalling: the parent close policy still releases it.
            self._log.warning("cancelled while releasing the DIG lock")
        except Exception as err:  # the parent close policy still releases it
            self._log.warning("releasing the DIG lock failed: %s", err)

    def _finish(self, mig: MigParam) -> RawValue:
        self._state = STATE_COMPLETED
        workflow.set_current_details(self._progress.message)
        extensions = {
            k: v
            for k, v in mig.extensions.items()
            if k not in (KEY_NEW_REVISION, KEY_BASE_REVISION, KEY_ATTEMPT)
        }
        extensions.update(self._progress.to_json())
        return encode_payload(replace(mig, extensions=extensions))

    async def _migrate(self, params: MigrationParams, snapshot: Snapshot, mig: MigParam) -> None:
        progress = self._progress
        selected = _only_planned(mig, snapshot)
        revision = snapshot.revision
        if params.strategy is Strategy.MAKE_BEFORE_BREAK:
            progress.mark(AppStatus.UPDATING)
            try:
                await self._step(
                    ACTIVITY_APPLY_APP_INTENTS,
                    ReversibleMigrationActivities.apply_app_intents,
                    ApplyRequest(params.dig, _writes(snapshot.items, interim=True)),
                )
            finally:
                self._doubt()  # its result does not say whether it needed a retry
            selected, revision = await self._update(selected, revision)
            await self._verify(params, snapshot, revision, keep_sources=True)
        progress.mark(AppStatus.UPDATING)
        selected = await self._write_step(
            ACTIVITY_UPDATE_APP_INTENTS, MigrationActivities.update_app_intents, selected
        )
        selected, revision = await self._update(selected, revision)
        await self._verify(params, snapshot, revision, keep_sources=False)

    async def _update(self, mig: MigParam, base_revision: int) -> tuple[MigParam, int]:
        """DoDigUpdate guarded by ``base_revision``; the result and the new revision."""
        guarded = replace(mig, extensions={**mig.extensions, KEY_BASE_REVISION: base_revision})
        self._left = (base_revision, base_revision + 1)
        self._moving()
        try:
            result = await self._write_step(
                ACTIVITY_DO_DIG_UPDATE, MigrationActivities.do_dig_update, guarded
            )
        except ApplicationError as err:
            if _error_type(err) == ErrorType.CHANGED_BY_OTHERS:
                self._left = (base_revision,)  # refused before posting
            raise
        new_revision = result.extensions.get(KEY_NEW_REVISION)
        # A Go worker's DoDigUpdate does not report the revision; EMCO allocates base + 1.
        revision = new_revision if isinstance(new_revision, int) else base_revision + 1
        self._left = (revision,)
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
        await self._verify_step(self._verify_request(params, revision, expectations, "migration"))

    async def _verify_step(
        self, request: VerifyRequest, settings: ActivitySettings | None = None, forward: bool = True
    ) -> VerifyResult:
        """VerifyMigration, adding what its polls saw to the measured interruption (also when
        it fails: a timeout still reports)."""
        try:
            result = await self._step(
                ACTIVITY_VERIFY,
                ReversibleMigrationActivities.verify,
                request,
                settings=settings,
                forward=forward,
            )
        except ApplicationError as err:
            measured = from_details(_failure_details(err))
            self._progress.measured(measured)
            # Still changing: the next verification counts from this one's last poll.
            self._unobserved.update({m.app: m.observed_until for m in measured})
            raise
        self._progress.measured(result.interruptions)
        for expectation in request.expectations:
            self._unobserved.pop(expectation.app, None)
        return result

    def _moving(self) -> None:
        """A step that moves apps (/update, /rollback) starts: from now on the planned apps
        may change unseen (kept if already unseen since earlier)."""
        snapshot = self._progress.snapshot
        now = workflow.now().timestamp()
        for item in snapshot.items if snapshot else ():
            self._unobserved.setdefault(item.app, now)

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
            unobserved_since={
                e.app: self._unobserved[e.app] for e in expectations if e.app in self._unobserved
            },
        )

    async def _undo(self, params: MigrationParams, snapshot: Snapshot, failure: str) -> str:
        """Run the compensation to completion even if cancelled again; returns the summary."""
        task = asyncio.create_task(self._compensate(params, snapshot, failure))
        while True:
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                if task.done() or _evicted():
                    raise
                self._log.warning("cancel requested during compensation; finishing it")

    async def _compensate(self, params: MigrationParams, snapshot: Snapshot, failure: str) -> str:
        progress = self._progress
        self._metrics.compensating(progress, self._state)
        progress.phase = Phase.COMPENSATING
        progress.message = f"{failure}; undoing it"
        self._log.warning("migration failed (%s); undoing it", failure)
        apps = ", ".join(sorted({item.app for item in snapshot.items}))
        safe = self._safe
        try:
            await self._step(
                ACTIVITY_APPLY_APP_INTENTS,
                ReversibleMigrationActivities.apply_app_intents,
                ApplyRequest(
                    params.dig,
                    _restores(snapshot.items, params, checked=safe),
                    revisions=self._left if safe else (),
                ),
                settings=COMPENSATION_SETTINGS,
                forward=False,
            )
            progress.undone.append(f"restored the app intents of {apps}")
            self._moving()
            rolled = await self._step(
                ACTIVITY_ROLLBACK,
                ReversibleMigrationActivities.rollback,
                RollbackRequest(
                    params.dig,
                    snapshot.revision,
                    snapshot.context,
                    f"emco-migrate: {failure}"[:1000],
                    left_revisions=self._left if safe else (),
                    settle_seconds=params.write_settle_seconds if safe else 0.0,
                ),
                settings=COMPENSATION_SETTINGS.with_settle_time(self._settle)
                if safe
                else COMPENSATION_SETTINGS,
                forward=False,
            )
            if rolled.method == RollbackMethod.NONE:
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
                await self._verify_step(
                    self._verify_request(params, rolled.revision, expectations, "rollback"),
                    settings=self._compensation_verify_settings() if safe else None,
                    forward=False,
                )
                where = "; ".join(
                    f"{e.app} on {', '.join(str(c) for c in e.ready_on)}" for e in expectations
                )
                progress.undone.append(f"verified Ready again: {where}")
            if safe:
                await self._confirm(params, snapshot, rolled.revision)
        except (ActivityError, ApplicationError) as err:
            progress.mark(AppStatus.FAILED)
            done = "; ".join(progress.undone) or "nothing"
            if _error_type(err) == ErrorType.CHANGED_BY_OTHERS:
                progress.phase = Phase.ROLLBACK_STOPPED
                progress.message = (
                    f"{failure}; stopped undoing it because someone else changed the DIG "
                    f"meanwhile: {_cause(err)}. Left as found. Done so far: {done}. Recorded "
                    f"before this run: revision {snapshot.revision}, "
                    f"{_recorded(snapshot.items)}"
                )
            else:
                progress.phase = Phase.FAILED
                progress.message = (
                    f"{failure}; undoing it failed too: {_cause(err)}. Done so far: {done}. "
                    f"Check the DIG's app intents and revision {snapshot.revision} by hand."
                )
        else:
            progress.phase = Phase.ROLLED_BACK
            progress.mark(AppStatus.ROLLED_BACK)
            progress.message = f"{failure}; undone: {'; '.join(progress.undone)}"
        workflow.upsert_memo({"outcome": progress.message})
        workflow.set_current_details(progress.message)
        return progress.message

    def _compensation_verify_settings(self) -> ActivitySettings:
        forward = self._options[ACTIVITY_VERIFY]
        return replace(
            forward,
            retry_policy=COMPENSATION_RETRY,
            heartbeat_timeout=COMPENSATION_SETTINGS.heartbeat_timeout,
            schedule_to_close_timeout=None,
        )

    async def _confirm(self, params: MigrationParams, snapshot: Snapshot, revision: int) -> None:
        """Read the app intents back once no write of ours can still arrive; restore any a
        late write of ours changed, refuse to touch any someone else changed."""
        if self._late_until is not None:
            wait = self._late_until - workflow.now()
            if wait > timedelta(0):
                self._progress.message += (
                    f"; waiting {wait.total_seconds():.0f}s for late writes before the final check"
                )
                await workflow.sleep(wait)
        confirmed = await self._step(
            ACTIVITY_CONFIRM_RESTORED,
            ReversibleMigrationActivities.confirm_restored,
            ConfirmRequest(params.dig, _restores(snapshot.items, params, checked=True), revision),
            settings=COMPENSATION_SETTINGS,
            forward=False,
        )
        if confirmed.reapplied:
            self._progress.undone.append(
                f"restored again after a late write: {', '.join(confirmed.reapplied)}"
            )
        self._progress.undone.append(
            f"read back: app intents equal the snapshot at revision {confirmed.revision}"
        )

    def _doubt(self) -> None:
        """A write of this run may still reach EMCO up to `writeSettleSeconds` from now."""
        self._late_until = workflow.now() + self._settle

    async def _write_step(
        self,
        name: str,
        method: Callable[[Any, RawValue], Awaitable[RawValue]],
        mig: MigParam,
    ) -> MigParam:
        """A Go-named step that writes: in doubt when it failed or needed a retry (our
        activities report their attempt; a Go worker's do not, so they are in doubt too)."""
        try:
            result = await self._go_step(name, method, mig)
        except BaseException:
            self._doubt()
            raise
        if result.extensions.get(KEY_ATTEMPT) != 1:
            self._doubt()
        return result

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
            self._progress.message = f"running {name}"
        self._metrics.step_starting(self._progress)
        step = Step(name, workflow.now())
        self._progress.steps.append(step)
        workflow.set_current_details(f"{self._progress.phase.value}: {name}")
        try:
            result: T = await workflow.execute_activity_method(
                method, argument, **(settings or self._options[name]).kwargs()
            )
        except asyncio.CancelledError:
            step.outcome = StepOutcome.CANCELLED
            raise
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, CancelledError):
                step.outcome = StepOutcome.CANCELLED
                raise asyncio.CancelledError(str(cause)) from err
            step.outcome = StepOutcome.FAILED
            step.error = _cause(err)
            retried = ""
            if isinstance(cause, ApplicationError) and not cause.non_retryable:
                seconds = (workflow.now() - step.started).total_seconds()
                retried = f" after retrying for {seconds:.0f}s"
            raise ApplicationError(
                f"{name} failed{retried}: {_cause(err)}",
                {"step": name, "errorType": _error_type(err)},
                type=ErrorType.STEP_FAILED,
                non_retryable=True,
            ) from err
        finally:
            step.finished = workflow.now()
            if step.outcome is not StepOutcome.RUNNING:
                self._metrics.step_ended(step, forward=forward)
        if step.outcome is StepOutcome.RUNNING:
            step.outcome = StepOutcome.OK
            self._metrics.step_ended(step, forward=forward)
        return result


def _source_clusters(snapshot: Snapshot) -> list[str]:
    """Every cluster the planned app intents were placed on, sorted."""
    return sorted({str(c) for item in snapshot.items for c in item.current_clusters})


def _failure_details(err: BaseException) -> tuple[Any, ...]:
    """The details of the ApplicationError an activity failed with (`_step` wraps it)."""
    found: BaseException | None = err
    while found is not None:
        if isinstance(found, ApplicationError) and found.type != ErrorType.STEP_FAILED:
            return tuple(found.details)
        found = found.__cause__
    return ()


def _only_planned(mig: MigParam, snapshot: Snapshot) -> MigParam:
    """The MigParam whose AppNameIntentPairs hold only the planned app intents."""
    pairs: dict[str, list[AppIntentRef]] = {}
    for item in snapshot.items:
        pairs.setdefault(item.placement_intent, []).append(AppIntentRef(item.app, item.app_intent))
    return replace(mig, app_intents={gpi: tuple(refs) for gpi, refs in pairs.items()})


def _sources(item: PlanItem, params: MigrationParams) -> tuple[ClusterRef, ...]:
    return tuple(c for c in item.current_clusters if c != params.target)


def _restores(
    items: tuple[PlanItem, ...], params: MigrationParams, *, checked: bool
) -> tuple[IntentWrite, ...]:
    """The recorded originals to PUT back; when ``checked``, each only over a placement
    this run left (the original, the target, or make-before-break's interim)."""
    writes = []
    for item in items:
        ours = [placement(item.original), item.new_intent]
        if item.interim_intent is not None:
            ours.append(item.interim_intent)
        writes.append(
            IntentWrite(
                item.placement_intent,
                item.app_intent,
                item.original,
                tuple(p for p in ours if p is not None) if checked else None,
            )
        )
    return tuple(writes)


def _recorded(items: tuple[PlanItem, ...]) -> str:
    return ", ".join(f"{i.app_intent} {placement_text(placement(i.original))}" for i in items)


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
