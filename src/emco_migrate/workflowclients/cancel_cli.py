"""``emco-migrate cancel``: request cancellation of a workflow, or terminate it."""

from __future__ import annotations

import argparse
import asyncio

from emco_migrate.temporal_connection import TemporalSettings, connect
from emco_migrate.workflowclients.cli_options import add_temporal_arguments, temporal_settings
from emco_migrate.workflowclients.inspection import cancel_workflow, terminate_workflow

HELP = "cancel or terminate a workflow"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The workflow to stop and how."""
    parser.add_argument("workflow_id", metavar="WORKFLOW_ID")
    parser.add_argument("--run-id", default="", help="a specific run (default: the latest)")
    parser.add_argument(
        "--terminate",
        action="store_true",
        help="terminate at once instead of requesting cancellation",
    )
    parser.add_argument("--reason", default="", metavar="TEXT", help="reason to record")
    add_temporal_arguments(parser)


async def stop(settings: TemporalSettings, args: argparse.Namespace) -> None:
    """Connect and cancel or terminate."""
    client = await connect(settings)
    if args.terminate:
        await terminate_workflow(client, args.workflow_id, run_id=args.run_id, reason=args.reason)
    else:
        await cancel_workflow(client, args.workflow_id, run_id=args.run_id, reason=args.reason)


def run(args: argparse.Namespace) -> int:
    """Stop the workflow and say what was done."""
    asyncio.run(stop(temporal_settings(args), args))
    action = "terminated" if args.terminate else "cancellation requested for"
    print(f"{action} workflow {args.workflow_id}" + (f" run {args.run_id}" if args.run_id else ""))
    return 0
