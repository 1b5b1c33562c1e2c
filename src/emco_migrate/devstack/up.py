"""`emco-migrate up`: start the local stack on the samples' fixed ports and keep it running."""

from __future__ import annotations

import argparse
import signal
import tempfile
import threading
from pathlib import Path

import platformdirs

from emco_migrate import cli_help
from emco_migrate.cli_help import HelpSections, Variable
from emco_migrate.devstack.stack import ENVIRONMENT, LocalStack, StackPorts
from emco_migrate.emcoctl.samples import SamplesError, package_samples
from emco_migrate.errors import UserError, os_reason, why_not_created

HELP = "start the local stack and keep it running"
EMCOCTL = "emco-migrate emcoctl --config emco-cfg-local.yaml"
APPLY = f"{EMCOCTL} apply -v values-local.yaml"
GET = f"{EMCOCTL} get -v values-local.yaml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``up``."""
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(platformdirs.user_state_dir("emco-migrate")) / "stack",
        help="where logs and (with --persist) state live (default: %(default)s)",
    )
    parser.add_argument(
        "--persist",
        action="store_true",
        help="keep Temporal's and the emulator's state across restarts (SQLite files in "
        "the state dir); by default every `up` starts empty",
    )
    parser.add_argument(
        "--ready-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how long the emulated clusters take to report resources Ready (default: 1.0)",
    )


def help_sections(command: str) -> HelpSections:
    """What ``up --help`` ends with."""
    return HelpSections(
        environment=(
            *ENVIRONMENT,
            Variable.one("XDG_STATE_HOME", "where the default --state-dir lives (Linux)"),
        ),
        exit_codes={
            cli_help.OK: "stopped by Ctrl-C or SIGTERM",
            cli_help.FAILED: "a --state-dir it cannot use, a port it needs is in use, or one "
            "of its processes died",
        },
        examples=("emco-migrate up", "emco-migrate up --persist --state-dir ./.state"),
    )


def prepare_state_dir(state_dir: Path) -> None:
    """Create ``state_dir/logs`` and check it takes files, or raise a one-line `UserError`."""
    logs = state_dir / "logs"
    try:
        logs.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(
            f"--state-dir {state_dir} cannot be used: {why_not_created(logs, err)}"
        ) from err
    try:
        with tempfile.TemporaryFile(dir=logs):
            pass
    except OSError as err:
        raise UserError(
            f"--state-dir {state_dir} cannot be used: {os_reason(err)} ({logs})"
        ) from err


def run(args: argparse.Namespace) -> int:
    """Start everything, print how to use it, wait for Ctrl-C or SIGTERM, stop everything."""
    prepare_state_dir(args.state_dir)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        built = package_samples()
        charts = ", ".join(str(p) for p in built.values())
    except SamplesError as err:
        charts = f"(not packaged: {err})"
    stack = LocalStack(args.state_dir, StackPorts.fixed(), args.ready_delay, args.persist)
    print("Starting Temporal dev server, EMCO emulator, worker and HTTP server...", flush=True)
    with stack:
        print(
            f"""
Local stack is up (Ctrl-C stops everything):
  Temporal          {stack.temporal_address}   Web UI: {stack.temporal_ui}
  EMCO emulator     {stack.emco_url}/v2   (every EMCO service on one port)
  workflow client   {stack.http_server_url}/invoke/migrate_workflowclient
  worker            polling {stack.task_queue}
  logs              {stack.log_dir}
  sample charts     {charts}

Apply the samples by hand, as in the seed (from samples/intents):
  {APPLY} -f 00.define-clusters-proj.yaml
  {APPLY} -f 01.instantiate-lc.yaml      (then 02.define-app-dig.yaml, 03.instantiate-dig.yaml,
                                          04.define-workflow-1.yaml, 05.start-workflow.yaml)
  {GET} -f 06.get-workflow-status.yaml
  emco-migrate status migrate-to-cluster2 --query progress
""",
            flush=True,
        )
        while not stop.wait(0.5):
            if (reason := stack.dead()) is not None:
                print(f"emco-migrate up: {reason}; stopping", flush=True)
                return 1
        print("Stopping...", flush=True)
    return 0
