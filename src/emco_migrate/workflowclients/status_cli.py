"""``emco-migrate status``: a workflow's description, history, query result and result."""

from __future__ import annotations

import argparse
import asyncio
import json

from emco_migrate.emcomigrate.names import QUERY_CURRENT_STATE
from emco_migrate.temporal_connection import TemporalSettings, connect
from emco_migrate.workflowclients.cli_options import add_temporal_arguments, temporal_settings
from emco_migrate.workflowclients.inspection import (
    StatusRequest,
    WorkflowStatus,
    ended_without_result,
    get_status,
)

HELP = "show a workflow's state, history, query result and result"


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
        "--wait", action="store_true", help="wait for the workflow to close and show its result"
    )
    parser.add_argument(
        "--query",
        metavar="QUERY_TYPE",
        default="",
        help=f"run this query, e.g. {QUERY_CURRENT_STATE} or progress (workflowQueryResult)",
    )
    add_temporal_arguments(parser)


async def inspect(settings: TemporalSettings, request: StatusRequest) -> WorkflowStatus:
    """Connect and gather the status."""
    client = await connect(settings)
    return await get_status(client, request)


def run(args: argparse.Namespace) -> int:
    """Print the status JSON; fail if --wait saw the workflow close without a result."""
    request = StatusRequest(
        workflow_id=args.workflow_id,
        run_id=args.run_id,
        describe=args.describe,
        history=args.history,
        query_type=args.query,
        wait=args.wait,
    )
    status = asyncio.run(inspect(temporal_settings(args), request))
    print(json.dumps(status.to_report(), indent=2))
    if args.wait and not status.has_result:
        raise ended_without_result(status)
    return 0
