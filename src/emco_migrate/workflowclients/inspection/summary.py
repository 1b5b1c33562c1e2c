"""A migration's status in a few lines for people: `status`'s default output.

Built from the run's description and its progress (the result's progress keys for a
completed run, the ``progress`` query otherwise); `-o json` prints the whole document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from emco_migrate.workflowclients.inspection.follow import activity_note
from emco_migrate.workflowclients.inspection.types import WorkflowStatus

LABEL_WIDTH = 11


def summary_lines(status: WorkflowStatus, progress: dict[str, Any] | None) -> list[str]:
    """Phase and message, DIG, placement before and after, revisions, step timings, run
    ID, start and close times; for a run that ended without a result, why."""
    state = status.status.name if status.status else "unknown"
    phase = progress.get("phase") if progress else None
    lines = [f"migration {status.workflow_id}: {phase or state.lower()} (Temporal: {state})"]
    details = progress or {}
    message = (str(details.get("message") or "") + activity_note(status)).strip()
    if message:
        lines.append(f"  {message}")

    def row(label: str, value: str) -> None:
        lines.append(f"  {label:<{LABEL_WIDTH}}{value}")

    if status.failure:
        row("failure", status.failure)
    dig = details.get("dig") or {}
    if dig:
        path = "/".join(
            str(dig.get(key, "?"))
            for key in ("project", "compositeApp", "compositeAppVersion", "deploymentIntentGroup")
        )
        row("DIG", f"{path} at {dig.get('emcoURL', '?')}")
    if details.get("strategy"):
        dry = " (dry run)" if details.get("dryRun") else ""
        row("strategy", f"{details['strategy']}{dry}")
    for i, app in enumerate(details.get("apps") or []):
        before = ", ".join(app.get("from") or []) or "?"
        after = ", ".join(app.get("to") or []) or "?"
        label = "placement" if i == 0 else ""
        row(label, f"{app.get('app')}: {before} -> {after} ({app.get('status')})")
    if details.get("baseRevision") is not None:
        new = details.get("newRevision")
        row("revision", f"{details['baseRevision']} -> {new if new is not None else '-'}")
    row("run", status.described_run_id or status.run_id or "?")
    row("started", _when(status.started_at))
    if status.closed_at is not None:
        took = ""
        if status.started_at is not None:
            took = f" ({_seconds((status.closed_at - status.started_at).total_seconds())})"
        row("closed", f"{_when(status.closed_at)}{took}")
    for i, step in enumerate(details.get("steps") or []):
        seconds = step.get("seconds")
        took = _seconds(seconds) if seconds is not None else "running"
        error = f": {step['error']}" if step.get("error") else ""
        label = "steps" if i == 0 else ""
        row(label, f"{step.get('name', '?'):<20} {took:>9}  {step.get('outcome')}{error}")
    if progress is None and (status.no_worker or status.query_error):
        row("details", f"not available: {status.no_worker or status.query_error}")
    if status.warning:
        row("warning", status.warning)
    return lines


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "?"


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value >= 10 else f"{value:.3f} s"
