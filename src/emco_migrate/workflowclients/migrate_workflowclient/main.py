"""``emco-migrate start -a spec.json`` and the ``migrate_workflowclient -a spec.json`` binary.

The second form is what the Go HTTP server ran for each ``/invoke`` (and what
``http-server --exec-dir`` runs): it reads a WfTemporalSpec JSON file, starts the migrate
workflow, prints its workflow and run IDs as JSON and exits without waiting for it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from emco_migrate import cli_help
from emco_migrate.cli import exit_now
from emco_migrate.cli_help import HelpSections
from emco_migrate.emcomigrate.endpoints import ALLOW_ENVIRONMENT
from emco_migrate.emcomigrate.names import TASK_QUEUE
from emco_migrate.errors import UserError
from emco_migrate.task_queue import (
    TASK_QUEUE_ENVIRONMENT,
    add_task_queue_argument,
    task_queue_from,
)
from emco_migrate.temporal_connection import ENVIRONMENT as TEMPORAL_ENVIRONMENT
from emco_migrate.temporal_connection import TemporalSettings, connect
from emco_migrate.version import add_version_argument
from emco_migrate.wire.gojson import FieldError
from emco_migrate.wire.temporal import TemporalSpec
from emco_migrate.workflowclients.cli_options import add_temporal_arguments, temporal_settings
from emco_migrate.workflowclients.errors import InvalidSpec
from emco_migrate.workflowclients.migrate_workflowclient.client import MigrateWorkflowClient
from emco_migrate.workflowclients.protocol import StartedWorkflow

HELP = "start a migrate workflow from a WfTemporalSpec JSON file"
PROG = "migrate_workflowclient"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``-a SPEC_JSON`` (the Go client's flag), the task queue and the connection flags."""
    parser.add_argument(
        "-a",
        dest="spec_file",
        metavar="SPEC_JSON",
        required=True,
        type=Path,
        help="file holding the WfTemporalSpec JSON that EMCO's workflowmgr POSTs",
    )
    add_task_queue_argument(parser)
    add_temporal_arguments(parser)


def help_sections(command: str) -> HelpSections:
    """What ``start --help`` (and ``migrate_workflowclient --help``) ends with."""
    program = "migrate_workflowclient" if command == PROG else "emco-migrate start"
    return HelpSections(
        environment=(*TEMPORAL_ENVIRONMENT, TASK_QUEUE_ENVIRONMENT, ALLOW_ENVIRONMENT),
        exit_codes={
            cli_help.OK: 'started: {"workflowID": ..., "runID": ...} printed',
            cli_help.FAILED: "the file cannot be read, the workflow ID is in use, or "
            "Temporal refused the start",
            cli_help.USAGE: "wrong usage, or the spec cannot be started (the field is named)",
            **cli_help.CLIENT_EXITS,
        },
        examples=(f"{program} -a spec.json",),
    )


def load_spec(path: Path) -> TemporalSpec:
    """Read and parse a WfTemporalSpec file; raises `UserError` / `InvalidSpec`."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise UserError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        return TemporalSpec.from_json(data)
    except FieldError as err:
        raise InvalidSpec(err.field, f"{path}: {err.reason}") from None


async def start(
    settings: TemporalSettings, spec: TemporalSpec, task_queue: str = TASK_QUEUE
) -> StartedWorkflow:
    """Check the spec, connect and start the migrate workflow on ``task_queue``."""
    workflow_client = MigrateWorkflowClient(task_queue=task_queue)
    workflow_client.check(spec)
    client = await connect(settings)
    return await workflow_client.start(client, spec)


def run(args: argparse.Namespace) -> int:
    """Start the workflow and print ``{"workflowID": ..., "runID": ...}``."""
    task_queue = task_queue_from(args.task_queue)
    spec = load_spec(args.spec_file)
    started = asyncio.run(start(temporal_settings(args), spec, task_queue))
    print(json.dumps({"workflowID": started.workflow_id, "runID": started.run_id}))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The ``migrate_workflowclient`` console script."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=HELP,
        epilog=cli_help.epilog(help_sections(PROG)),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    add_version_argument(parser, PROG)
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (`completion` command)
        import argcomplete

        argcomplete.autocomplete(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return run(args)
    except UserError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return cli_help.INTERRUPTED


def entry() -> NoReturn:
    """The ``migrate_workflowclient`` console script (exits without finalization)."""
    exit_now(main())
