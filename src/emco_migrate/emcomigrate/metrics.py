"""The worker's migration metrics (``emco_migrate_*``), declared once, recorded through
Temporal's metric meter.

In workflow code the meter is `workflow.metric_meter()`, which records nothing while the SDK
replays a history: a worker that replays a run (after a restart or a cache eviction) does not
count its start, its steps or its phases again. Activities use `activity.metric_meter()`.
Outside a worker (tests, tools) both meters record nothing.

In flight, by phase, is ``entered - left`` of `PHASE_ENTERED` and `PHASE_LEFT` (and, in all,
``started - finished``), summed over workers with ``increase()``: Prometheus adds a killed
worker's last scraped count to its successor's, and the successor, replaying, counts the
run's start and phases only once. A gauge would be wrong after any restart: the new worker
knows a run only when the run's next task reaches it. docs/Migrate_Workflow.md, section 8.
"""

from __future__ import annotations

import enum
import platform
from collections.abc import Mapping, Sequence

import temporalio
from temporalio import activity, workflow
from temporalio.common import MetricMeter

from emco_migrate import __version__
from emco_migrate.emcomigrate.names import ALL_ACTIVITY_NAMES, WORKFLOW_NAME
from emco_migrate.emcomigrate.progress import Phase, Progress, Step, StepOutcome
from emco_migrate.emcomigrate.types import Strategy

STARTED = "emco_migrate_migrations_started_total"
FINISHED = "emco_migrate_migrations_finished_total"
PHASE_ENTERED = "emco_migrate_migration_phase_entered_total"
PHASE_LEFT = "emco_migrate_migration_phase_left_total"
MIGRATION_SECONDS = "emco_migrate_migration_duration_seconds"
STEP_SECONDS = "emco_migrate_step_duration_seconds"
COMPENSATIONS = "emco_migrate_compensations_total"
INTERRUPTION_SECONDS = "emco_migrate_app_interruption_seconds"
VERIFICATION_POLLS = "emco_migrate_verification_polls_total"
EMCO_REQUESTS = "emco_migrate_emco_requests_total"
EMCO_SECONDS = "emco_migrate_emco_request_duration_seconds"
EVACUATION_IN_USE = "emco_migrate_evacuation_window_in_use"
EVACUATION_LIMIT = "emco_migrate_evacuation_window_size"
EVACUATION_QUEUED = "emco_migrate_evacuation_queue_depth"
BUILD_INFO = "emco_migrate_build_info"

# Bucket bounds in seconds. A migration waits for rollouts (minutes); a step is one activity,
# verification included; an EMCO request is one HTTP round trip.
BUCKETS: Mapping[str, Sequence[float]] = {
    MIGRATION_SECONDS: (1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
    STEP_SECONDS: (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
    INTERRUPTION_SECONDS: (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
    EMCO_SECONDS: (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
}

# The phases a running migration is in; every other phase is how one ended.
IN_FLIGHT_PHASES = (Phase.PLANNING, Phase.MIGRATING, Phase.COMPENSATING)
OUTCOMES = tuple(p for p in Phase if p not in IN_FLIGHT_PHASES)
UNKNOWN_STRATEGY = "unknown"  # the run ended before its parameters were read


class CompensationReason(enum.StrEnum):
    """Why a migration undid its writes."""

    CANCELLED = "cancelled"
    STEP_FAILED = "step-failed"  # the `step` label names it (VerifyMigration: not Ready in time)
    INTERNAL_ERROR = "internal-error"


class PollResult(enum.StrEnum):
    """What one verification poll found."""

    READY = "ready"  # nothing left to wait for
    WAITING = "waiting"  # EMCO answered; not there yet
    UNKNOWN = "unknown"  # a transient answer (5xx, 408, 429, timeout): not known yet
    FAILED = "failed"  # a definite failure: waiting cannot fix it


class Direction(enum.StrEnum):
    """Whether a step moves the app forward or undoes the migration."""

    FORWARD = "forward"
    COMPENSATION = "compensation"


def status_class(status: int | None) -> str:
    """``2xx`` .. ``5xx`` for an HTTP status; ``error`` when no answer came (timeout, refused)."""
    return "error" if status is None else f"{status // 100}xx"


class MigrationMetrics:
    """One migration run's metrics; its methods are called from the workflow's code."""

    def __init__(self) -> None:
        self._strategy: str | None = None  # set once the start is counted
        self._phase: Phase | None = None

    def step_starting(self, progress: Progress) -> None:
        """Before each activity: count the start (its strategy is known by now) and any
        change of phase since the last step."""
        self._start(progress)
        self._observe(progress.phase)

    def step_ended(self, step: Step, *, forward: bool) -> None:
        """After each activity: its duration by name, outcome and direction."""
        if step.finished is None:
            return
        if step.outcome is StepOutcome.CANCELLED and workflow.cancellation_reason() is None:
            return  # the worker evicts the run, which goes on from its history
        workflow.metric_meter().create_histogram_float(
            STEP_SECONDS, "Duration of one migration step (activity), retries included", "s"
        ).record(
            (step.finished - step.started).total_seconds(),
            {
                "step": step.name,
                "outcome": step.outcome.value,
                "direction": (Direction.FORWARD if forward else Direction.COMPENSATION).value,
            },
        )

    def compensating(self, progress: Progress, running_step: str) -> None:
        """The compensation starts; ``running_step`` is the forward step it interrupts."""
        if workflow.cancellation_reason() is not None:
            reason = CompensationReason.CANCELLED
        elif any(s.outcome is StepOutcome.FAILED for s in progress.steps):
            reason = CompensationReason.STEP_FAILED
        else:
            reason = CompensationReason.INTERNAL_ERROR
        workflow.metric_meter().create_counter(
            COMPENSATIONS, "Migrations that started undoing their writes"
        ).add(1, {"reason": reason.value, "step": running_step})

    def ended(self, progress: Progress, *, final: bool) -> None:
        """The run ends with ``progress.phase`` as its outcome; one still in a running phase
        failed in workflow code, which ends the run only when ``final`` (strict input),
        else the SDK retries its workflow task and it is not over."""
        phase = progress.phase
        if phase in IN_FLIGHT_PHASES:
            if not final:
                return
            phase = Phase.FAILED
        self._start(progress)
        self._observe(phase)
        meter = workflow.metric_meter()
        labels = {"strategy": self._strategy or UNKNOWN_STRATEGY, "outcome": phase.value}
        meter.create_counter(FINISHED, "Migrations that ended, by outcome").add(1, labels)
        seconds = (workflow.now() - workflow.info().start_time).total_seconds()
        meter.create_histogram_float(
            MIGRATION_SECONDS, "Duration of a migration, from its start to its end", "s"
        ).record(max(seconds, 0.0), labels)
        interruption = progress.interruption_seconds
        if interruption is not None:
            meter.create_histogram_float(
                INTERRUPTION_SECONDS, "Seconds the app was Ready on no cluster", "s"
            ).record(interruption, {"strategy": labels["strategy"]})

    def _start(self, progress: Progress) -> None:
        if self._strategy is not None:
            return
        params = progress.params
        self._strategy = params.strategy.value if params else UNKNOWN_STRATEGY
        workflow.metric_meter().create_counter(STARTED, "Migrations started").add(
            1, {"strategy": self._strategy}
        )

    def _observe(self, phase: Phase) -> None:
        if phase is self._phase:
            return
        meter = workflow.metric_meter()
        if self._phase is not None:
            meter.create_counter(PHASE_LEFT, "Migrations that left a phase").add(
                1, {"phase": self._phase.value}
            )
        if phase in IN_FLIGHT_PHASES:
            meter.create_counter(PHASE_ENTERED, "Migrations that entered a phase").add(
                1, {"phase": phase.value}
            )
        self._phase = phase if phase in IN_FLIGHT_PHASES else None


def evacuation_window(running: int, limit: int, queued: int) -> None:
    """From the evacuation workflow: children in flight, the in-flight limit and the DIGs
    not started yet."""
    meter = workflow.metric_meter()
    labels = {"evacuation": workflow.info().workflow_id}
    meter.create_gauge(EVACUATION_IN_USE, "Evacuation children in flight").set(running, labels)
    meter.create_gauge(EVACUATION_LIMIT, "Evacuation in-flight limit").set(limit, labels)
    meter.create_gauge(EVACUATION_QUEUED, "Evacuation DIGs not started yet").set(queued, labels)


def verification_poll(result: PollResult, purpose: str) -> None:
    """From the verification activity: one poll of EMCO and what it found."""
    if activity.in_activity():
        activity.metric_meter().create_counter(
            VERIFICATION_POLLS, "Verification polls of EMCO, by what they found"
        ).add(1, {"result": result.value, "purpose": purpose})


def emco_request(endpoint: str, method: str, status: int | None, seconds: float) -> None:
    """From the EMCO client: one HTTP request, its answer's status class and latency."""
    if not activity.in_activity():
        return
    meter = activity.metric_meter()
    labels = {"endpoint": endpoint, "method": method, "status_class": status_class(status)}
    meter.create_counter(EMCO_REQUESTS, "HTTP requests to EMCO").add(1, labels)
    meter.create_histogram_float(EMCO_SECONDS, "Latency of HTTP requests to EMCO", "s").record(
        seconds, labels
    )


def workflow_attributes(namespace: str, task_queue: str) -> dict[str, str | int | float | bool]:
    """The labels `workflow.metric_meter()` adds to a migration's metrics."""
    return {"namespace": namespace, "task_queue": task_queue, "workflow_type": WORKFLOW_NAME}


def announce(meter: MetricMeter, namespace: str, task_queue: str) -> None:
    """At worker start: the build info, and the migration counters at zero, so the first
    migration after a start or a restart is an increase Prometheus sees (a series born with
    its first count shows none to rate() and increase()), and every series a dashboard
    subtracts or divides by exists."""

    meter.create_gauge(BUILD_INFO, "emco-migrate build; the value is always 1").set(
        1,
        {
            "version": __version__,
            "temporalio": temporalio.__version__,
            "python": platform.python_version(),
        },
    )
    flows = meter.with_additional_attributes(workflow_attributes(namespace, task_queue))
    strategies = (*(s.value for s in Strategy), UNKNOWN_STRATEGY)
    started = flows.create_counter(STARTED, "Migrations started")
    finished = flows.create_counter(FINISHED, "Migrations that ended, by outcome")
    for strategy in strategies:
        started.add(0, {"strategy": strategy})
        for outcome in OUTCOMES:
            finished.add(0, {"strategy": strategy, "outcome": outcome.value})
    entered = flows.create_counter(PHASE_ENTERED, "Migrations that entered a phase")
    left = flows.create_counter(PHASE_LEFT, "Migrations that left a phase")
    for phase in IN_FLIGHT_PHASES:
        entered.add(0, {"phase": phase.value})
        left.add(0, {"phase": phase.value})
    compensations = flows.create_counter(
        COMPENSATIONS, "Migrations that started undoing their writes"
    )
    for reason in CompensationReason:
        for step in ALL_ACTIVITY_NAMES:
            compensations.add(0, {"reason": reason.value, "step": step})
