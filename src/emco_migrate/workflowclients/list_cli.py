"""``emco-migrate list``: migrations and evacuations, newest first, filtered by the search
attributes the workflows set (`emcomigrate.search_attributes`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client, WorkflowExecution

from emco_migrate import cli_help
from emco_migrate.cli_help import HelpSections
from emco_migrate.emcomigrate import search_attributes as sa
from emco_migrate.emcomigrate.evacuation import EVACUATION_OUTCOMES
from emco_migrate.emcomigrate.names import WORKFLOW_EVACUATE, WORKFLOW_NAME
from emco_migrate.emcomigrate.progress import Phase
from emco_migrate.errors import UserError
from emco_migrate.temporal_connection import ENVIRONMENT as TEMPORAL_ENVIRONMENT
from emco_migrate.temporal_connection import TemporalSettings, connect
from emco_migrate.workflowclients.cli_options import add_temporal_arguments, temporal_settings
from emco_migrate.workflowclients.inspection.calls import temporal_call

HELP = "list migrations and evacuations, newest first"

OUTCOMES = tuple(dict.fromkeys((sa.RUNNING, *(p.value for p in Phase), *EVACUATION_OUTCOMES)))
KINDS = {WORKFLOW_NAME: "migration", WORKFLOW_EVACUATE: "evacuation"}
# How many matching runs are read to sort them; Temporal's SQL visibility cannot order by
# start time, so `list` reads them and sorts itself.
READ_AT_MOST = 5000
_RELATIVE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def help_sections(command: str) -> HelpSections:
    """What ``list --help`` ends with."""
    return HelpSections(
        note="Runs started before their workflow set search attributes (older releases) show "
        "no DIG or outcome and match no filter.",
        environment=TEMPORAL_ENVIRONMENT,
        exit_codes={
            cli_help.OK: "the list was printed (even empty)",
            cli_help.FAILED: "Temporal refused the query",
            cli_help.USAGE: "a bad flag",
            **cli_help.CLIENT_EXITS,
            cli_help.BROKEN_PIPE: "its output was closed early (e.g. piped into head)",
        },
        examples=(
            "emco-migrate list --running",
            "emco-migrate list --dig hello-dig --since 24h",
            "emco-migrate list --evacuation evacuate-provider1-cluster1-1a2b3c4d -o json",
        ),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Filters (all must match) and the output format."""
    parser.add_argument("--dig", metavar="DIG", help="only runs for this deployment intent group")
    parser.add_argument("--project", metavar="PROJECT", help="only migrations in this project")
    parser.add_argument(
        "--cluster",
        metavar="PROVIDER/CLUSTER",
        help="only runs moving from or to this cluster (provider+cluster also accepted)",
    )
    parser.add_argument(
        "--outcome", metavar="OUTCOME", help=f"only runs with this outcome: {', '.join(OUTCOMES)}"
    )
    parser.add_argument(
        "--evacuation", metavar="ID", help="only the migrations this evacuation started"
    )
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help="only runs started since WHEN: an ISO 8601 time (e.g. 2026-12-01T08:00:00Z) "
        "or an age such as 30m, 12h, 7d",
    )
    parser.add_argument("--running", action="store_true", help="only runs still running")
    parser.add_argument(
        "--limit", type=int, default=50, metavar="N", help="show at most N runs (default 50)"
    )
    parser.add_argument(
        "-o", "--output", choices=("table", "json"), default="table", help="default: table"
    )
    add_temporal_arguments(parser)


@dataclass(frozen=True)
class Listed:
    """One run as `list` shows it."""

    workflow_id: str
    run_id: str
    kind: str
    status: str
    outcome: str
    dig: str
    project: str
    source: tuple[str, ...]
    target: str
    strategy: str
    evacuation_id: str
    started: datetime | None
    closed: datetime | None
    message: str

    @property
    def seconds(self) -> float | None:
        if self.started is None:
            return None
        end = self.closed or datetime.now(UTC)
        return round((end - self.started).total_seconds(), 3)

    def to_json(self) -> dict[str, Any]:
        return {
            "workflowId": self.workflow_id,
            "runId": self.run_id,
            "kind": self.kind,
            "status": self.status,
            "outcome": self.outcome,
            "dig": self.dig or None,
            "project": self.project or None,
            "source": list(self.source),
            "target": self.target or None,
            "strategy": self.strategy or None,
            "evacuationId": self.evacuation_id or None,
            "startedAt": self.started.isoformat() if self.started else None,
            "closedAt": self.closed.isoformat() if self.closed else None,
            "seconds": self.seconds,
            "message": self.message,
        }


def cluster_name(text: str) -> str:
    """``provider/cluster`` or ``provider+cluster`` as EMCO names it (``provider+cluster``)."""
    provider, sep, cluster = text.replace("/", "+").partition("+")
    if not sep or not provider or not cluster or "+" in cluster:
        raise UserError(
            f"--cluster {text!r}: expected PROVIDER/CLUSTER, e.g. provider1/cluster1", exit_code=2
        )
    return f"{provider}+{cluster}"


def since_time(text: str, now: datetime) -> datetime:
    """An ISO 8601 time with an offset, or an age (``30m``, ``12h``, ``7d``) before ``now``."""
    if match := _RELATIVE.match(text):
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise UserError(
            f"--since {text!r}: expected an ISO 8601 time with an offset "
            "(e.g. 2026-12-01T08:00:00Z) or an age such as 30m, 12h, 7d",
            exit_code=2,
        )
    return moment


def visibility_query(args: argparse.Namespace, now: datetime) -> str:
    """The filters as a Temporal visibility query (checked before anything is asked)."""
    q = sa.quoted
    kinds = ", ".join(q(kind) for kind in KINDS)
    parts = [f"WorkflowType IN ({kinds})"]
    if args.dig:
        parts.append(f"{sa.DIG.name} = {q(args.dig)}")
    if args.project:
        parts.append(f"{sa.PROJECT.name} = {q(args.project)}")
    if args.cluster:
        name = q(cluster_name(args.cluster))
        parts.append(f"({sa.SOURCE_CLUSTERS.name} = {name} OR {sa.TARGET_CLUSTER.name} = {name})")
    if args.outcome:
        if args.outcome not in OUTCOMES:
            raise UserError(
                f"--outcome {args.outcome!r}: expected one of {', '.join(OUTCOMES)}", exit_code=2
            )
        parts.append(f"{sa.OUTCOME.name} = {q(args.outcome)}")
    if args.evacuation:
        parts.append(f"{sa.EVACUATION_ID.name} = {q(args.evacuation)}")
    if args.since:
        moment = since_time(args.since, now).astimezone(UTC)
        parts.append(f"StartTime >= {q(moment.isoformat().replace('+00:00', 'Z'))}")
    if args.running:
        parts.append("ExecutionStatus = 'Running'")
    return " AND ".join(parts)


async def listed(execution: WorkflowExecution) -> Listed:
    """What a listed run shows, from its search attributes and memo."""
    found = sa.read(execution.typed_search_attributes)
    memo = await execution.memo()
    status = execution.status.name if execution.status else "UNKNOWN"

    def text(key: sa.Key) -> str:
        value = found.get(key.name, "")
        return value if isinstance(value, str) else ""

    source = found.get(sa.SOURCE_CLUSTERS.name, [])
    return Listed(
        workflow_id=execution.id,
        run_id=execution.run_id,
        kind=KINDS.get(execution.workflow_type, execution.workflow_type),
        status=status,
        outcome=text(sa.OUTCOME) or status.lower(),
        dig=text(sa.DIG),
        project=text(sa.PROJECT),
        source=tuple(source) if isinstance(source, list) else (),
        target=text(sa.TARGET_CLUSTER),
        strategy=text(sa.STRATEGY),
        evacuation_id=text(sa.EVACUATION_ID),
        started=execution.start_time,
        closed=execution.close_time,
        message=str(memo.get("outcome") or ""),
    )


async def find(client: Client, query: str, limit: int) -> tuple[list[Listed], bool]:
    """The newest ``limit`` runs matching ``query``; whether more than `READ_AT_MOST` matched
    (then only that many were read and sorted)."""
    executions: list[WorkflowExecution] = []
    truncated = False
    async for execution in client.list_workflows(query):
        if len(executions) == READ_AT_MOST:
            truncated = True
            break
        executions.append(execution)
    newest = datetime.min.replace(tzinfo=UTC)
    executions.sort(key=lambda e: e.start_time or newest, reverse=True)
    return [await listed(e) for e in executions[:limit]], truncated


def table(runs: list[Listed]) -> list[str]:
    """Aligned columns, one run per line."""
    header = ("STARTED", "ID", "KIND", "DIG", "OUTCOME", "SOURCE", "TARGET", "DURATION")
    rows = [header]
    for run in runs:
        seconds = run.seconds
        took = "-" if seconds is None else f"{seconds:.1f}s"
        if run.closed is None and seconds is not None:
            took += " so far"
        rows.append(
            (
                run.started.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if run.started else "-",
                run.workflow_id,
                run.kind,
                run.dig or "-",
                run.outcome,
                ",".join(run.source) or "-",
                run.target or ("auto" if run.kind == "evacuation" else "-"),
                took,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip


async def list_runs(settings: TemporalSettings, args: argparse.Namespace) -> int:
    query = visibility_query(args, datetime.now(UTC))
    client = await connect(settings)
    runs, truncated = await temporal_call(find(client, query, args.limit), "", "")
    if args.output == "json":
        print(json.dumps([run.to_json() for run in runs], indent=2))
    elif not runs:
        print("no migration or evacuation matches")
    else:
        for line in table(runs):
            print(line)
    if truncated:
        print(f"(only the first {READ_AT_MOST} matching runs were read: narrow the filters)")
    return 0


def run(args: argparse.Namespace) -> int:
    """Print the table (or JSON) of matching runs."""
    if args.limit < 1:
        raise UserError("--limit must be at least 1", exit_code=2)
    return asyncio.run(list_runs(temporal_settings(args), args))
