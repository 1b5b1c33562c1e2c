"""``emco-migrate status``: a workflow's description, history, query result and result."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from typing import TextIO

import httpx

from emco_migrate import cli_help
from emco_migrate.cli_help import HelpSections
from emco_migrate.emcomigrate.names import (
    QUERY_CURRENT_STATE,
    QUERY_PROGRESS,
    WORKFLOW_EVACUATE,
    WORKFLOW_NAME,
)
from emco_migrate.errors import UserError
from emco_migrate.temporal_connection import ENVIRONMENT as TEMPORAL_ENVIRONMENT
from emco_migrate.temporal_connection import TemporalSettings, connect
from emco_migrate.workflowclients.cli_options import add_temporal_arguments, temporal_settings
from emco_migrate.workflowclients.errors import NoWorkerPolling
from emco_migrate.workflowclients.evacuate_cli import report_header, report_table
from emco_migrate.workflowclients.inspection import (
    StatusRequest,
    WorkflowStatus,
    ended_without_result,
    get_status,
)
from emco_migrate.workflowclients.inspection.calls import decoded_payloads
from emco_migrate.workflowclients.inspection.emco_intents import EMCO_TIMEOUT
from emco_migrate.workflowclients.inspection.follow import follow
from emco_migrate.workflowclients.inspection.summary import summary_lines

HELP = "show a workflow's state, history, query result and result"


def help_sections(command: str) -> HelpSections:
    """What ``status --help`` ends with."""
    return HelpSections(
        environment=TEMPORAL_ENVIRONMENT,
        exit_codes={
            cli_help.OK: "the report was printed; with --watch, the workflow succeeded",
            cli_help.FAILED: "the workflow does not exist, the query failed, the query was not "
            "sent because no worker polls the workflow's task queue (what Temporal knows "
            "without a worker is printed, the reason goes to stderr), --wait saw the workflow "
            "end without a result, or --watch saw it end otherwise than succeeded",
            **cli_help.CLIENT_EXITS,
            cli_help.BROKEN_PIPE: "its output was closed early (e.g. piped into head)",
        },
        examples=(
            "emco-migrate status migrate-to-cluster2 --query progress",
            "emco-migrate status migrate-to-cluster2 --watch",
            "emco-migrate status evacuate-provider1-cluster1-1a2b3c4d -o json",
        ),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The workflow to inspect and what to report (EMCO's status query parameters)."""
    parser.add_argument("workflow_id", metavar="WORKFLOW_ID")
    parser.add_argument("--run-id", default="", help="a specific run (default: the latest)")
    parser.add_argument(
        "--describe",
        action="store_true",
        help="include the DescribeWorkflowExecution response (workflowExecutionDescription)",
    )
    parser.add_argument(
        "--history", action="store_true", help="include the event history (workflowHistory)"
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help=(
            "wait for the workflow to close and show its result (a line per change goes to "
            "stderr meanwhile)"
        ),
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help=(
            "print a line whenever the workflow's progress changes (step, attempt and last "
            "error while retrying, what verification waits for), then how it ended; exit 0 "
            "when it succeeded, 1 otherwise"
        ),
    )
    parser.add_argument(
        "--query",
        metavar="QUERY_TYPE",
        default="",
        help=(
            f"run this query, e.g. {QUERY_CURRENT_STATE} or {QUERY_PROGRESS} "
            "(workflowQueryResult); not sent when no worker polls the workflow's task queue"
        ),
    )
    parser.add_argument(
        "-o",
        "--output",
        choices=("summary", "json", "table"),
        default=None,
        help=(
            "summary: a migration in a few lines (phase, message, placement before and after, "
            "revisions, step timings, run ID, times); json: the EMCO-shaped status document; "
            "table: an evacuation's counts and DIGs (default: table for an evacuation, "
            "summary for a migration, json with --describe, --history or --query)"
        ),
    )
    add_temporal_arguments(parser)


async def inspect(settings: TemporalSettings, request: StatusRequest) -> WorkflowStatus:
    """Connect and gather the status (EMCO is read only for a run that ended early)."""
    client = await connect(settings)
    async with httpx.AsyncClient(timeout=EMCO_TIMEOUT) as http:
        return await get_status(client, request, http=http)


async def watch(settings: TemporalSettings, args: argparse.Namespace, out: TextIO) -> int:
    """Follow the workflow, a line per change on ``out``; the exit code of how it ended."""
    client = await connect(settings)

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    end = await follow(client, args.workflow_id, say, run_id=args.run_id)
    if args.watch:
        print(end.line, flush=True)
    return end.code


def run(args: argparse.Namespace) -> int:
    """Print the status JSON; fail if the query could not be answered or if --wait saw
    the workflow close without a result."""
    if args.watch:
        return asyncio.run(watch(temporal_settings(args), args, sys.stdout))
    if args.wait:
        asyncio.run(watch(temporal_settings(args), args, sys.stderr))
    request = StatusRequest(
        workflow_id=args.workflow_id,
        run_id=args.run_id,
        describe=args.describe,
        history=args.history,
        query_type=args.query,
        wait=args.wait,
    )
    try:
        status = asyncio.run(inspect(temporal_settings(args), request))
    except NoWorkerPolling as err:
        # What Temporal knows without a worker is still worth printing; the error line
        # (and exit status 1) follow as for any failed query.
        print(json.dumps(err.report.to_report(), indent=2))
        raise
    if status.workflow_type == WORKFLOW_EVACUATE and args.output != "json":
        return print_evacuation(args, request, status)
    if args.output == "table":
        raise UserError(
            f"-o table shows evacuations; {args.workflow_id} runs {status.workflow_type}: "
            "use -o summary or -o json"
        )
    document = args.describe or args.history or bool(args.query)
    migration = status.workflow_type == WORKFLOW_NAME
    if args.output == "summary" or (args.output is None and migration and not document):
        return print_summary(args, request, status)
    report = status.to_report()
    if args.history:  # payloads as the JSON they hold, not base64
        report["workflowHistory"] = decoded_payloads(report["workflowHistory"])
    print(json.dumps(report, indent=2))
    if status.warning is not None:
        print(f"emco-migrate status: warning: {status.warning}", file=sys.stderr)
    if args.wait and not status.has_result:
        raise ended_without_result(status)
    return 0


def print_summary(args: argparse.Namespace, request: StatusRequest, status: WorkflowStatus) -> int:
    """A migration in a few lines, from its result or (still running, or closed without a
    result) its progress query; without a worker to answer that, what Temporal knows."""
    result = status.result if status.has_result else None
    progress = result if isinstance(result, dict) else None
    if progress is None:
        queried = replace(request, query_type=QUERY_PROGRESS, wait=False)
        try:
            found = asyncio.run(inspect(temporal_settings(args), queried))
        except NoWorkerPolling:
            progress = None
        else:
            answer = found.query_result
            progress = answer if isinstance(answer, dict) else None
            status = replace(found, failure=status.failure)
    for line in summary_lines(status, progress):
        print(line)
    if args.wait and not status.has_result:
        raise ended_without_result(status)
    return 0


def print_evacuation(
    args: argparse.Namespace, request: StatusRequest, status: WorkflowStatus
) -> int:
    """An evacuation's header and table, from its result or (still running, or closed
    without a result) its progress query."""
    report = status.result if status.has_result else None
    if report is None:
        queried = replace(request, query_type=QUERY_PROGRESS, wait=False)
        report = asyncio.run(inspect(temporal_settings(args), queried)).query_result
    if not isinstance(report, dict) or "counts" not in report:
        raise UserError(f"{args.workflow_id}: the evacuation gave no report")
    state = status.status.name if status.status else ""
    for line in [*report_header(report, state), *report_table(report)]:
        print(line)
    if status.failure:
        print(f"  closed: {status.failure}")
    if args.wait and not status.has_result:
        raise ended_without_result(status)
    return 0
