"""EmcoEvacuateWorkflow: move every app EMCO placed on one cluster, a few DIGs at a time.

Discover (one activity walks EMCO), plan (`fleet.plan`: which DIGs, which target), then run
one `EmcoMigrateWorkflow` child per DIG (ID ``<evacuation ID>/<project>/<app>/<version>/<dig>``,
so no DIG is started twice), at most ``max_in_flight`` at once, in the plan's order. Each
child verifies its move and undoes it on failure, as a single migration does. Once more
children than the failure budget ended rolled back or failed, or once ``window_end`` has
passed, no new child starts and the rest are reported "not started". Pause, resume and abort
are signals (abort cancels the children in flight, each of which compensates);
``max_in_flight`` is changed with an update. After `children_per_run` children the run drains
and continues as new with the plan and outcomes, so its history stays bounded; the plan
travels `fleet.pack`ed, so a fleet of 10,000 DIGs fits in one payload, and reports past
`fleet.REPORT_DIGS` DIGs list the ones not moved and carry the whole list packed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
    FailureError,
    WorkflowAlreadyStartedError,
)
from temporalio.workflow import ChildWorkflowCancellationType, ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from emco_migrate.emcomigrate import fleet, param_schema
    from emco_migrate.emcomigrate import search_attributes as sa
    from emco_migrate.emcomigrate.error_types import ErrorType
    from emco_migrate.emcomigrate.fleet import (
        DigEntry,
        DigOutcome,
        FailureBudget,
        FleetPlan,
        FleetScope,
    )
    from emco_migrate.emcomigrate.fleet_activities import (
        DiscoverRequest,
        FailbackCheck,
        FleetActivities,
    )
    from emco_migrate.emcomigrate.metrics import evacuation_window
    from emco_migrate.emcomigrate.names import (
        ALL_ACTIVITIES,
        QUERY_PROGRESS,
        SIGNAL_ABORT,
        SIGNAL_CANCEL_FAILBACK,
        SIGNAL_FAILBACK_NOW,
        SIGNAL_PAUSE,
        SIGNAL_RESUME,
        UPDATE_MAX_IN_FLIGHT,
        WORKFLOW_EVACUATE,
        WORKFLOW_NAME,
    )
    from emco_migrate.emcomigrate.progress import Phase
    from emco_migrate.emcomigrate.types import ClusterRef, ParamError, Strategy
    from emco_migrate.wire.temporal import WorkflowParamsSpec, workflow_input

CHILDREN_PER_RUN = 200
# Continue-as-new, the failback's input and its check carry the plan packed (`fleet.pack`);
# runs before this patch carried it as plain lists.
PATCH_PACKED_PLAN = "packed-plan-1"
# A child that ended "no-op" (nothing of its DIG left on the source) is reported
# "unchanged", not "moved"; a pause or maxInFlight change that arrives before the run
# starts is kept; a signal that arrives while a child is being started is not forgotten; a
# failback waits for its own startAt. Runs before this patch reported such a child moved,
# dropped or forgot those signals, and started a failback at once.
PATCH_EVACUATION_2 = "evacuation-2"
# The run sets the custom search attributes and ends with its outcome in memo (as migrations).
PATCH_SEARCH_ATTRIBUTES = "search-attributes-1"
# Every free slot of the window is filled in one workflow task (the children start together),
# not one child per task: filling a window of 50 took ~5 s.
PATCH_BATCH_START = "batch-start-1"


@dataclass(frozen=True)
class EvacuationRequest:
    """What to evacuate, to where, and how fast; checked by `check` before anything runs."""

    emco_url: str
    source: ClusterRef
    target: ClusterRef | None = None  # None: the `auto` rule of `fleet`
    exclude: tuple[ClusterRef, ...] = ()
    priority: tuple[str, ...] = ()  # globs over project/compositeApp/version/dig: these first
    scope: FleetScope = field(default_factory=FleetScope)
    dcm_url: str = ""
    max_in_flight: int = 10
    failure_budget: str = "10%"
    strategy: str = Strategy.DIRECT.value
    verify_timeout_seconds: int = 600
    write_settle_seconds: int = param_schema.DEFAULT_WRITE_SETTLE_SECONDS
    dry_run: bool = False
    start_at: str = ""  # ISO 8601 with an offset; "" = now
    window_end: str = ""  # ISO 8601 with an offset; "" = no end
    failback_at: str = ""  # ISO 8601 with an offset: move everything back then; "" = never
    children_per_run: int = CHILDREN_PER_RUN

    def check(self) -> None:
        """Raise `ParamError` naming the first bad field."""
        if not self.emco_url:
            raise ParamError("emcoURL", "is required")
        if self.target is not None and self.target == self.source:
            raise ParamError("target", f"{self.target} is the cluster being evacuated")
        if not 1 <= self.max_in_flight <= fleet.MAX_IN_FLIGHT:
            raise ParamError("maxInFlight", f"must be 1..{fleet.MAX_IN_FLIGHT}")
        FailureBudget.parse(self.failure_budget)
        if self.strategy not in {s.value for s in Strategy}:
            raise ParamError("strategy", f"must be one of {', '.join(s.value for s in Strategy)}")
        bounds = param_schema.BY_NAME["verifyTimeoutSeconds"]  # what each child accepts
        if not bounds.minimum <= self.verify_timeout_seconds <= bounds.maximum:
            raise ParamError("verifyTimeoutSeconds", f"must be {bounds.minimum}..{bounds.maximum}")
        settle = param_schema.BY_NAME["writeSettleSeconds"]
        if not settle.minimum <= self.write_settle_seconds <= settle.maximum:
            raise ParamError("writeSettleSeconds", f"must be {settle.minimum}..{settle.maximum}")
        if self.children_per_run < 1:
            raise ParamError("childrenPerRun", "must be at least 1")
        times = (("startAt", self.start_at), ("windowEnd", self.window_end))
        for name, text in (*times, ("failbackAt", self.failback_at)):
            if text:
                parse_time(name, text)


def parse_time(name: str, text: str) -> datetime:
    """An ISO 8601 time with its UTC offset; raises `ParamError`."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ParamError(name, f"{text!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise ParamError(name, f"{text!r} has no UTC offset (add Z or +00:00)")
    return when


@dataclass(frozen=True)
class EvacuationInput:
    """The workflow's input: the request, plus the plan and outcomes when continued as new."""

    request: EvacuationRequest
    entries: tuple[DigEntry, ...] | None = None
    skipped: tuple[fleet.Skipped, ...] = ()
    paused: bool = False
    max_in_flight: int = 0  # 0: the request's
    runs: int = 1
    # A failback: the DIGs to move back (`fleet.failback_entries`), and the evacuation's
    # report when the failback follows it in the same workflow (``failbackAt``).
    failback: tuple[DigEntry, ...] | None = None
    evacuation: dict[str, Any] | None = None
    # `fleet.pack`ed: a `FleetPlan` (instead of ``entries``/``skipped``) and the failback's
    # DIGs (instead of ``failback``); "" for none.
    plan: str = ""
    failback_plan: str = ""

    def carried(self) -> FleetPlan | None:
        """The plan and outcomes a previous run handed on, if any."""
        if self.plan:
            return fleet.unpack(self.plan, FleetPlan)
        if self.entries is not None:
            return FleetPlan(self.entries, self.skipped)
        return None

    def failback_entries(self) -> tuple[DigEntry, ...] | None:
        """The DIGs a failback moves back (None: this is an evacuation)."""
        if self.failback_plan:
            return fleet.unpack(self.failback_plan, fleet.Entries)
        return self.failback


def child_input(request: EvacuationRequest, entry: DigEntry) -> Any:
    """The child migration's input: the WorkflowParams EMCO would send for this DIG, moving
    only the app intents on the source."""
    assert entry.target is not None
    source = entry.source or request.source
    params = {
        "emcoURL": request.emco_url,
        "project": entry.project,
        "compositeApp": entry.composite_app,
        "compositeAppVersion": entry.version,
        "deploymentIntentGroup": entry.dig,
        "targetClusterProvider": entry.target.provider,
        "targetClusterName": entry.target.cluster,
        "sourceClusterProvider": source.provider,
        "sourceClusterName": source.cluster,
        "apps": ",".join(entry.apps),
        "strategy": request.strategy,
        "verifyTimeoutSeconds": str(request.verify_timeout_seconds),
        "writeSettleSeconds": str(request.write_settle_seconds),
    }
    if request.dcm_url:
        params["dcmURL"] = request.dcm_url
    return workflow_input(WorkflowParamsSpec(activity_params={ALL_ACTIVITIES: params}))


@workflow.defn(name=WORKFLOW_EVACUATE)
class EmcoEvacuateWorkflow:
    """Evacuates one cluster: one verified, reversible migration per DIG placed there."""

    def __init__(self) -> None:
        self._entries: list[DigEntry] = []
        self._skipped: tuple[fleet.Skipped, ...] = ()
        self._index: dict[str, int] = {}
        self._cursor = 0  # no pending entry before this index
        self._running: dict[str, asyncio.Task[None]] = {}
        self._paused = False
        self._aborted = False
        self._max_in_flight = 1
        self._phase = "starting"
        self._message = ""
        self._changed = False
        self._request: EvacuationRequest | None = None
        self._failback: tuple[DigEntry, ...] | None = None
        self._evacuation: dict[str, Any] | None = None
        self._failback_now = False
        self._failback_cancelled = False
        self._fixed = False  # patch evacuation-2
        self._early_max_in_flight: int | None = None
        self._listed = False  # patch search-attributes-1
        self._batch = False  # patch batch-start-1

    @workflow.signal(name=SIGNAL_PAUSE)
    def pause(self) -> None:
        """Start no new child until resumed; the ones in flight go on."""
        self._paused = True
        self._changed = True

    @workflow.signal(name=SIGNAL_RESUME)
    def resume(self) -> None:
        """Start children again."""
        self._paused = False
        self._changed = True

    @workflow.signal(name=SIGNAL_ABORT)
    def abort(self) -> None:
        """Start no new child and cancel the ones in flight (each undoes its move)."""
        self._aborted = True
        self._changed = True

    @workflow.signal(name=SIGNAL_FAILBACK_NOW)
    def failback_now(self) -> None:
        """Start the failback now instead of at ``failbackAt``."""
        self._failback_now = True
        self._changed = True

    @workflow.signal(name=SIGNAL_CANCEL_FAILBACK)
    def cancel_failback(self) -> None:
        """Do not fail back at ``failbackAt``: the evacuation ends as it is."""
        self._failback_cancelled = True
        self._changed = True

    @workflow.update(name=UPDATE_MAX_IN_FLIGHT)
    def set_max_in_flight(self, value: int) -> int:
        """Change how many children may run at once; returns the new limit."""
        self._max_in_flight = value
        if self._request is None:  # before the run started: the run must not overwrite it
            self._early_max_in_flight = value
        self._changed = True
        return value

    @set_max_in_flight.validator
    def _check_max_in_flight(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("maxInFlight must be an integer")
        if not 1 <= value <= fleet.MAX_IN_FLIGHT:
            raise ValueError(f"maxInFlight must be 1..{fleet.MAX_IN_FLIGHT}, got {value}")

    @workflow.query(name=QUERY_PROGRESS)
    def progress(self) -> dict[str, Any]:
        """Counts per outcome, every DIG with its child, timings and an ETA."""
        return self._report()

    @workflow.run
    async def run(self, value: EvacuationInput) -> dict[str, Any]:
        """Discover, plan, then move the DIGs under the window, budget and in-flight limit."""
        self._listed = workflow.patched(PATCH_SEARCH_ATTRIBUTES)
        self._batch = workflow.patched(PATCH_BATCH_START)
        try:
            report = await self._run(value)
        except asyncio.CancelledError:
            if workflow.cancellation_reason() is not None:  # cancelled, not evicted
                self._record_outcome(Phase.CANCELLED.value)
            raise
        except workflow.ContinueAsNewError:
            raise
        except Exception:
            self._record_outcome(Phase.FAILED.value)
            raise
        self._record_outcome(_outcome(report))
        return report

    def _list_as(self, values: dict[str, str | list[str] | None]) -> None:
        if self._listed:
            sa.upsert(values)

    def _record_outcome(self, outcome: str) -> None:
        """The outcome as a search attribute and in memo (patch search-attributes-1)."""
        if not self._listed:
            return
        counts: dict[str, int] = {}
        for entry in self._entries:
            counts[entry.outcome.value] = counts.get(entry.outcome.value, 0) + 1
        sa.record_end(
            outcome,
            {
                "outcome": self._message or outcome,
                "source": [str(self._request.source)] if self._request else [],
                "counts": counts,
            },
        )

    async def _run(self, value: EvacuationInput) -> dict[str, Any]:
        request = self._request = value.request
        self._fixed = fixed = workflow.patched(PATCH_EVACUATION_2)
        try:
            request.check()
        except ParamError as err:
            raise ApplicationError(
                str(err), type=ErrorType.INVALID_PARAMS, non_retryable=True
            ) from None
        self._list_as(
            {
                sa.SOURCE_CLUSTERS.name: [str(request.source)],
                sa.TARGET_CLUSTER.name: str(request.target) if request.target else None,
                sa.STRATEGY.name: request.strategy,
                sa.OUTCOME.name: sa.RUNNING,
            }
        )
        if fixed and self._early_max_in_flight is not None:
            self._max_in_flight = self._early_max_in_flight
        else:
            self._max_in_flight = value.max_in_flight or request.max_in_flight
        self._paused = value.paused or (fixed and self._paused)
        self._failback, self._evacuation = value.failback_entries(), value.evacuation
        carried = value.carried()
        if carried is None and self._failback is not None:
            if fixed:
                await self._wait_for_start(request)
            await self._check_failback(request, self._failback)
        elif carried is None:
            await self._wait_for_start(request)
            if self._aborted:
                self._phase, self._message = "aborted", "aborted before discovery"
                return self._report()
            await self._discover(request)
            if request.dry_run:
                self._phase = "dry run"
                self._message = f"dry run: {len(self._entries)} DIG(s) planned; nothing written"
                return self._report()
        else:
            self._entries, self._skipped = list(carried.entries), carried.skipped
        self._index = {e.key: i for i, e in enumerate(self._entries)}
        await self._move(request, value)
        if request.failback_at and self._failback is None and self._phase == "completed":
            await self._wait_for_failback(request, value)
        return self._report()

    async def _check_failback(
        self, request: EvacuationRequest, moved: tuple[DigEntry, ...]
    ) -> None:
        self._phase, self._message = "checking", f"checking {len(moved)} DIG(s) before failback"
        if workflow.patched(PATCH_PACKED_PLAN):
            check = FailbackCheck(request.emco_url, packed_entries=fleet.pack(moved, fleet.Entries))
        else:
            check = FailbackCheck(request.emco_url, moved)
        changed = await workflow.execute_activity_method(
            FleetActivities.check_failback,
            check,
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=5),
        )
        skip = {c.key for c in changed}
        self._entries = [e for e in moved if e.key not in skip]
        self._skipped = changed

    async def _wait_for_failback(self, request: EvacuationRequest, value: EvacuationInput) -> None:
        delay = (parse_time("failbackAt", request.failback_at) - workflow.now()).total_seconds()
        self._phase = "waiting for failback"
        self._message = f"{self._summary()}; failing back at {request.failback_at}"
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._failback_now or self._failback_cancelled, timeout=max(0.0, delay)
            )
        if self._failback_cancelled:
            self._phase = "completed"
            self._message = f"{self._summary()}; failback cancelled"
            return
        back = fleet.failback_entries(self._entries, request.source)
        if not workflow.patched(PATCH_PACKED_PLAN):
            workflow.continue_as_new(
                EvacuationInput(
                    request, failback=back, evacuation=self._report(), runs=value.runs + 1
                )
            )
        evacuated = {k: v for k, v in self._report().items() if k != "packedDigs"}
        # The evacuation's window was for the evacuation: the failback starts now, unbounded.
        workflow.continue_as_new(
            EvacuationInput(
                replace(request, start_at="", window_end="", failback_at=""),
                evacuation=evacuated,
                runs=value.runs + 1,
                failback_plan=fleet.pack(back, fleet.Entries),
            )
        )

    async def _wait_for_start(self, request: EvacuationRequest) -> None:
        if not request.start_at:
            return
        delay = (parse_time("startAt", request.start_at) - workflow.now()).total_seconds()
        if delay > 0:
            self._phase, self._message = "waiting", f"waiting until {request.start_at}"
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._aborted, timeout=delay)

    async def _discover(self, request: EvacuationRequest) -> None:
        self._phase, self._message = "discovering", f"looking for DIGs on {request.source}"
        discovery = await workflow.execute_activity_method(
            FleetActivities.discover,
            DiscoverRequest(request.emco_url, request.dcm_url, request.source, request.scope),
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=5, non_retryable_error_types=[]),
        )
        planned = fleet.plan(
            discovery, request.source, request.target, request.exclude, request.priority
        )
        self._entries, self._skipped = list(planned.entries), planned.skipped

    async def _move(self, request: EvacuationRequest, value: EvacuationInput) -> None:
        budget = FailureBudget.parse(request.failure_budget)
        allowed = budget.allowed(len(self._entries))
        window_end = parse_time("windowEnd", request.window_end) if request.window_end else None
        started = 0
        self._phase = "running"
        while not self._aborted:
            if self._fixed:
                # A signal that arrives while a child is being started (pause, resume, abort,
                # a new maxInFlight) must wake the wait below, not be forgotten.
                self._changed = False
            if window_end is not None and workflow.now() >= window_end:
                self._close("not started: window closed")
            if fleet.failures(self._entries) > allowed:
                self._close(f"not started: failure budget ({budget}) exhausted")
            if self._batch:
                started += await self._fill_window(request, started)
            while (
                not self._batch
                and not self._paused
                and not self._aborted
                and started < request.children_per_run
                and len(self._running) < self._max_in_flight
                and (entry := self._next_pending()) is not None
            ):
                await self._start(request, entry)
                started += 1
            if not self._running and self._next_pending() is None:
                break
            if not self._running and started >= request.children_per_run:
                self._continue_as_new(value)
            self._message = self._summary()
            self._report_window()
            if not self._fixed:
                self._changed = False
            timeout = None
            if window_end is not None:
                timeout = max(0.0, (window_end - workflow.now()).total_seconds())
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._changed, timeout=timeout)
        if self._aborted:
            self._phase, self._message = "aborting", "aborting: cancelling the children in flight"
            for task in list(self._running.values()):
                task.cancel()
            await asyncio.gather(*self._running.values(), return_exceptions=True)
            self._close("not started: aborted")
            self._phase = "aborted"
        else:
            self._phase = "completed"
        self._message = self._summary()
        self._report_window()

    def _report_window(self) -> None:
        queued = fleet.counts(self._entries)[DigOutcome.PENDING]
        evacuation_window(len(self._running), self._max_in_flight, queued)

    def _continue_as_new(self, value: EvacuationInput) -> None:
        carried = replace(
            value, paused=self._paused, max_in_flight=self._max_in_flight, runs=value.runs + 1
        )
        if not workflow.patched(PATCH_PACKED_PLAN):
            workflow.continue_as_new(
                replace(carried, entries=tuple(self._entries), skipped=self._skipped)
            )
        plan = fleet.pack(FleetPlan(tuple(self._entries), self._skipped), FleetPlan)
        failback = fleet.pack(self._failback, fleet.Entries) if self._failback is not None else ""
        workflow.continue_as_new(
            replace(
                carried, entries=None, skipped=(), failback=None, plan=plan, failback_plan=failback
            )
        )

    async def _fill_window(self, request: EvacuationRequest, started: int) -> int:
        """Start children for every free slot at once (their start commands leave in one
        workflow task); again while slots freed meanwhile. Returns how many were started."""
        count = 0
        while not self._paused and not self._aborted:
            free = min(
                self._max_in_flight - len(self._running),
                request.children_per_run - started - count,
            )
            batch = self._pending(free)
            if not batch:
                return count
            await asyncio.gather(*(self._start(request, entry) for entry in batch))
            count += len(batch)
        return count

    def _pending(self, most: int) -> list[DigEntry]:
        """The next ``most`` pending entries in plan order (left pending)."""
        found: list[DigEntry] = []
        if most <= 0 or self._next_pending() is None:
            return found
        for entry in itertools.islice(self._entries, self._cursor, None):
            if len(found) == most:
                break
            if entry.outcome == DigOutcome.PENDING:
                found.append(entry)
        return found

    def _next_pending(self) -> DigEntry | None:
        # Entries leave "pending" in plan order and never return to it.
        entries = self._entries
        while self._cursor < len(entries) and entries[self._cursor].outcome != DigOutcome.PENDING:
            self._cursor += 1
        return entries[self._cursor] if self._cursor < len(entries) else None

    def _close(self, reason: str) -> None:
        self._entries = list(fleet.close_pending(self._entries, reason))

    def _set(self, entry: DigEntry) -> None:
        self._entries[self._index[entry.key]] = entry
        self._changed = True

    async def _start(self, request: EvacuationRequest, entry: DigEntry) -> None:
        kind = "failback/" if self._failback is not None else ""
        child_id = f"{workflow.info().workflow_id}/{kind}{entry.key}"
        now = workflow.now().timestamp()
        try:
            handle = await workflow.start_child_workflow(
                WORKFLOW_NAME,
                child_input(request, entry),
                id=child_id,
                task_queue=workflow.info().task_queue,
                cancellation_type=ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
                parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
            )
        except WorkflowAlreadyStartedError:
            reason = f"a workflow with ID {child_id} is already running"
            self._set(replace(entry, outcome=DigOutcome.FAILED, reason=reason, child_id=child_id))
            return
        running = replace(entry, outcome=DigOutcome.RUNNING, child_id=child_id, started_at=now)
        self._set(running)
        self._running[entry.key] = asyncio.create_task(self._watch(running, handle))

    async def _watch(self, entry: DigEntry, handle: Any) -> None:
        outcome, reason = DigOutcome.MOVED, ""
        try:
            result = await handle
            if self._fixed and (note := _nothing_moved(result)) is not None:
                outcome, reason = DigOutcome.UNCHANGED, note
        except ChildWorkflowError as err:
            outcome, reason = _child_outcome(err)
        except asyncio.CancelledError:
            outcome, reason = DigOutcome.ROLLED_BACK, "cancelled by abort (compensated)"
        finally:
            self._running.pop(entry.key, None)
            self._set(
                replace(entry, outcome=outcome, reason=reason, ended_at=workflow.now().timestamp())
            )

    def _summary(self) -> str:
        c = fleet.counts(self._entries)
        paused = " (paused)" if self._paused and self._phase == "running" else ""
        unchanged = c[DigOutcome.UNCHANGED]
        return (
            f"{c[DigOutcome.MOVED]} moved, "
            + (f"{unchanged} unchanged, " if unchanged else "")
            + f"{c[DigOutcome.RUNNING]} in flight, "
            f"{c[DigOutcome.PENDING]} pending, {c[DigOutcome.ROLLED_BACK]} rolled back, "
            f"{c[DigOutcome.FAILED]} failed, {c[DigOutcome.NOT_STARTED]} not started{paused}"
        )

    def _report(self) -> dict[str, Any]:
        request = self._request
        report: dict[str, Any] = {
            "evacuation": workflow.info().workflow_id,
            "kind": "failback" if self._failback is not None else "evacuation",
            "emcoURL": request.emco_url if request else "",
            "phase": self._phase,
            "message": self._message,
            "source": str(request.source) if request else "",
            "paused": self._paused,
            "maxInFlight": self._max_in_flight,
            "counts": fleet.counts(self._entries),
            "etaSeconds": fleet.eta_seconds(self._entries, self._max_in_flight),
        }
        listed = self._entries
        if len(listed) > fleet.REPORT_DIGS:
            not_moved = (e for e in listed if e.outcome != DigOutcome.MOVED)
            listed = list(itertools.islice(not_moved, fleet.REPORT_DIGS))
        report["digs"] = [_entry_json(e) for e in listed]
        if len(listed) < len(self._entries):
            report["digsOmitted"] = len(self._entries) - len(listed)
            report["packedDigs"] = fleet.pack(tuple(self._entries), fleet.Entries)
        skipped = self._skipped[: fleet.REPORT_DIGS]
        report["skipped"] = [{"dig": s.key, "reason": s.reason} for s in skipped]
        if len(skipped) < len(self._skipped):
            report["skippedOmitted"] = len(self._skipped) - len(skipped)
        if self._evacuation is not None:
            report["evacuated"] = self._evacuation
        return report


def _nothing_moved(result: Any) -> str | None:
    """Why a child that completed wrote nothing (its no-op message), or None if it moved."""
    if isinstance(result, dict) and result.get("phase") == Phase.NO_OP.value:
        return str(result.get("message") or "nothing to do")
    return None


def _child_outcome(err: ChildWorkflowError) -> tuple[DigOutcome, str]:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == ErrorType.ROLLED_BACK:
        return DigOutcome.ROLLED_BACK, cause.message
    if isinstance(cause, CancelledError):
        return DigOutcome.ROLLED_BACK, "cancelled (compensated)"
    if isinstance(cause, FailureError):
        return DigOutcome.FAILED, cause.message
    return DigOutcome.FAILED, str(err)


def _entry_json(entry: DigEntry) -> dict[str, Any]:
    return {
        "dig": entry.key,
        "apps": list(entry.apps),
        "target": str(entry.target) if entry.target else "",
        "from": str(entry.source) if entry.source else "",
        "intents": [list(pair) for pair in entry.intents],
        "outcome": entry.outcome.value,
        "reason": entry.reason,
        "workflowID": entry.child_id,
        "seconds": round(entry.ended_at - entry.started_at, 3) if entry.ended_at else None,
    }


# An ended evacuation's outcomes besides the migration phases it shares (completed, dry-run,
# cancelled, failed).
EVACUATION_OUTCOMES = ("partial", "aborted")


def _outcome(report: dict[str, Any]) -> str:
    """An ended evacuation's outcome: its phase (``dry-run``, ``aborted``), or for one that
    ran to the end ``completed`` when every DIG moved (or had nothing to move), else
    ``partial``."""
    phase = str(report.get("phase") or "").replace(" ", "-")
    if phase == "completed" and not fleet.report_succeeded(report):
        return "partial"
    return phase
