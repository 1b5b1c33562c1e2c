"""``emco-migrate cancel``: request cancellation of a workflow, or terminate it."""

from __future__ import annotations

import argparse
import asyncio

from temporalio.client import WorkflowExecutionStatus

from emco_migrate import cli_help
from emco_migrate.cli_help import HelpSections
from emco_migrate.errors import UserError
from emco_migrate.temporal_connection import ENVIRONMENT as TEMPORAL_ENVIRONMENT
from emco_migrate.temporal_connection import TemporalSettings, connect
from emco_migrate.workflowclients.cli_options import add_temporal_arguments, temporal_settings
from emco_migrate.workflowclients.inspection import (
    StatusRequest,
    cancel_workflow,
    get_status,
    terminate_workflow,
)

HELP = "cancel or terminate a workflow"


def help_sections(command: str) -> HelpSections:
    """What ``cancel --help`` ends with."""
    return HelpSections(
        environment=TEMPORAL_ENVIRONMENT,
        exit_codes={
            cli_help.OK: "cancellation requested (with --wait: the workflow ended cancelled), "
            "or terminated",
            cli_help.FAILED: "no such workflow, it has already ended, or (--wait) it ended "
            "otherwise than cancelled",
            cli_help.USAGE: "wrong usage, e.g. --wait with --terminate",
            **cli_help.CLIENT_EXITS,
        },
        examples=(
            "emco-migrate cancel migrate-to-cluster2 --wait",
            "emco-migrate cancel migrate-to-cluster2 --terminate --reason 'stuck'",
        ),
    )


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
    parser.add_argument(
        "--wait",
        action="store_true",
        help=(
            "after requesting cancellation, wait until the workflow has ended (a migration "
            "first undoes what it wrote) and print how it ended; exit 0 only if it ended "
            "cancelled"
        ),
    )
    add_temporal_arguments(parser)


async def stop(settings: TemporalSettings, args: argparse.Namespace) -> int:
    """Connect and cancel or terminate; with ``--wait``, follow the run to its end."""
    client = await connect(settings)
    which = f"workflow {args.workflow_id}" + (f" run {args.run_id}" if args.run_id else "")
    if args.terminate:
        await terminate_workflow(client, args.workflow_id, run_id=args.run_id, reason=args.reason)
        print(f"terminated {which}")
        return 0
    await cancel_workflow(client, args.workflow_id, run_id=args.run_id, reason=args.reason)
    if not args.wait:
        print(f"cancellation requested for {which}")
        return 0
    print(f"cancellation requested for {which}; waiting for it to end", flush=True)
    status = await get_status(
        client, StatusRequest(args.workflow_id, run_id=args.run_id, wait=True)
    )
    ended = status.status.name if status.status else "unknown"
    print(f"{which} ended {ended}" + (f": {status.failure}" if status.failure else ""))
    return 0 if status.status is WorkflowExecutionStatus.CANCELED else 1


def run(args: argparse.Namespace) -> int:
    """Stop the workflow and say what was done."""
    if args.terminate and args.wait:
        raise UserError(
            "--wait follows a cancellation; --terminate ends the workflow at once", exit_code=2
        )
    return asyncio.run(stop(temporal_settings(args), args))
