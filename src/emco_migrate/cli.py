"""The ``emco-migrate`` command line: one entry point, one module per subcommand."""
# PYTHON_ARGCOMPLETE_OK (argcomplete's marker: this program completes itself on TAB)

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import shlex
import sys
from collections.abc import Sequence
from typing import NoReturn, Protocol

from emco_migrate import cli_help, logs
from emco_migrate.cli_help import HelpSections, Variable
from emco_migrate.errors import UserError
from emco_migrate.version import add_version_argument


class Subcommand(Protocol):
    """What every subcommand module provides."""

    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...

    # And ``help_sections(command: str) -> HelpSections``: the environment variables the
    # command reads, its exit codes and examples, shown at the end of its --help.


# Subcommand name -> module. Modules are imported only when their command runs, so
# `emco-migrate start` does not pay for FastAPI and the emulator.
SUBCOMMANDS: dict[str, str] = {
    "worker": "emco_migrate.worker.main",
    "http-server": "emco_migrate.workflowclients.http_server.main",
    "start": "emco_migrate.workflowclients.migrate_workflowclient.main",
    "migrate": "emco_migrate.workflowclients.migrate_cli",
    "migrate-back": "emco_migrate.workflowclients.migrate_cli",
    "status": "emco_migrate.workflowclients.status_cli",
    "list": "emco_migrate.workflowclients.list_cli",
    "cancel": "emco_migrate.workflowclients.cancel_cli",
    "evacuate": "emco_migrate.workflowclients.evacuate_cli",
    "pause": "emco_migrate.workflowclients.evacuate_cli",
    "resume": "emco_migrate.workflowclients.evacuate_cli",
    "abort": "emco_migrate.workflowclients.evacuate_cli",
    "set-max-in-flight": "emco_migrate.workflowclients.evacuate_cli",
    "failback": "emco_migrate.workflowclients.evacuate_cli",
    "failback-now": "emco_migrate.workflowclients.evacuate_cli",
    "cancel-failback": "emco_migrate.workflowclients.evacuate_cli",
    "emco-sim": "emco_migrate.emcosim.main",
    "emcoctl": "emco_migrate.emcoctl.main",
    "demo": "emco_migrate.devstack.demo",
    "up": "emco_migrate.devstack.up",
    "completion": "emco_migrate.completion",
}

# Short help shown in `emco-migrate --help` without importing every module.
SUMMARIES: dict[str, str] = {
    "worker": "run the worker that executes EmcoMigrateWorkflow",
    "http-server": "serve POST /invoke/{client} for EMCO's workflowmgr",
    "start": "start a migrate workflow from a WfTemporalSpec JSON file",
    "migrate": "migrate a DIG's apps to another cluster, from flags",
    "migrate-back": "move a completed migration's apps back to where they were",
    "status": "show a workflow's state, history, query result and result",
    "list": "list migrations and evacuations, newest first",
    "cancel": "cancel or terminate a workflow",
    "evacuate": "evacuate a cluster: migrate every DIG placed on it, a few at a time",
    "pause": "pause an evacuation (children in flight finish)",
    "resume": "resume a paused evacuation",
    "abort": "abort an evacuation (children in flight roll back)",
    "set-max-in-flight": "change how many DIGs an evacuation moves at once",
    "failback": "move every DIG an evacuation moved back where it was",
    "failback-now": "start an evacuation's failback now instead of at its failbackAt",
    "cancel-failback": "cancel an evacuation's failback at failbackAt",
    "emco-sim": "run the local EMCO API emulator",
    "emcoctl": "apply/get/delete EMCO resource YAML (emcoctl-compatible)",
    "demo": "run the whole migration demo locally and exit",
    "up": "start the local stack and keep it running",
    "completion": "print the shell code that completes emco-migrate's commands on TAB",
}


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Also settable by environment, e.g. in containers whose arguments end with the subcommand's.
LOG_LEVEL_VARIABLE = "EMCO_MIGRATE_LOG_LEVEL"
PROG = "emco-migrate"

# What every command shares: the global options' variables and how any command can end.
COMMON_HELP = HelpSections(
    environment=(
        Variable.one(LOG_LEVEL_VARIABLE, "default of --log-level (INFO)"),
        Variable.one(logs.LOG_FORMAT_VARIABLE, "default of --log-format: text or json"),
    ),
    exit_codes={cli_help.USAGE: "wrong usage (unknown flag, missing or malformed argument)"},
)
TOP_HELP = HelpSections(
    exit_codes={
        cli_help.OK: "success",
        cli_help.FAILED: "a failure, explained on one line",
        cli_help.UNREACHABLE: "Temporal unreachable",
        cli_help.ADDRESS_IN_USE: "a port to listen on is in use",
        cli_help.INTERRUPTED: "interrupted (Ctrl-C)",
        cli_help.BROKEN_PIPE: "its output was closed early (e.g. piped into head)",
    },
    examples=(
        f"{PROG} demo",
        f"{PROG} COMMAND --help       (each command's flags, variables and exit codes)",
        f'eval "$({PROG} completion bash)"',
    ),
)


def _load(name: str) -> Subcommand:
    module = importlib.import_module(SUBCOMMANDS[name])
    return module  # type: ignore[return-value,unused-ignore]


def help_sections(name: str, module: Subcommand) -> HelpSections:
    """The subcommand's help sections after the ones every command shares."""
    own = getattr(module, "help_sections", None)
    sections: HelpSections = own(name) if own is not None else HelpSections()
    return sections.merged(COMMON_HELP)


def build_parser(selected: str | None) -> argparse.ArgumentParser:
    """Build the parser; only the selected subcommand's module is imported."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Migrate EMCO-deployed apps between clusters with a Temporal workflow.",
        epilog=cli_help.epilog(TOP_HELP.merged(COMMON_HELP)),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_version_argument(parser, PROG)
    parser.add_argument(
        "--log-level",
        default=os.environ.get(LOG_LEVEL_VARIABLE, "INFO").upper(),
        choices=LOG_LEVELS,
        help=f"log level for diagnostic output on stderr (default: {LOG_LEVEL_VARIABLE} or INFO)",
    )
    parser.add_argument(
        "--log-format",
        default=os.environ.get(logs.LOG_FORMAT_VARIABLE, "text").lower(),
        choices=logs.FORMATS,
        help=(
            "text lines, or one JSON object per line with the workflow and run IDs as fields "
            f"(default: {logs.LOG_FORMAT_VARIABLE} or text)"
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, summary in SUMMARIES.items():
        sp = sub.add_parser(
            name,
            help=summary,
            description=summary,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if name == selected:
            module = _load(name)
            module.add_arguments(sp)
            sp.epilog = cli_help.epilog(help_sections(name, module))
        with contextlib.suppress(argparse.ArgumentError):  # the command's own --version wins
            add_version_argument(sp, PROG)
    return parser


def _selected_command(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if arg in SUBCOMMANDS:
            return arg
    return None


def completing_words() -> list[str] | None:
    """The words before the cursor while the shell asks for completions (argcomplete's
    ``_ARGCOMPLETE`` protocol), else None."""
    if "_ARGCOMPLETE" not in os.environ:
        return None
    line = os.environ.get("COMP_LINE", "")
    line = line[: int(os.environ.get("COMP_POINT") or len(line))]
    try:
        return shlex.split(line)
    except ValueError:  # an open quote, the word being completed
        return line.split()


def complete(parser: argparse.ArgumentParser) -> None:
    """Answer the shell's completion request and exit, if this run is one."""
    if "_ARGCOMPLETE" in os.environ:
        import argcomplete

        argcomplete.autocomplete(parser)


def exit_now(code: int) -> NoReturn:
    """Flush and end the process without interpreter finalization.

    Temporal's Rust runtime keeps native threads that may touch Python objects while the
    interpreter finalizes, which can abort a short-lived command at exit
    ("PyGILState_Release"); console scripts therefore leave through here.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a closed pipe: nothing more can be said
            stream.flush()
    os._exit(code)


def entry() -> NoReturn:
    """The ``emco-migrate`` console script."""
    exit_now(main(own_process=True))


def main(argv: Sequence[str] | None = None, *, own_process: bool = False) -> int:
    """Run the CLI; returns the process exit code. ``own_process``: the process is this
    command's alone (the console script), so it may set Temporal's default runtime."""
    argv = list(sys.argv[1:] if argv is None else argv)
    words = completing_words()
    selected = _selected_command(argv if words is None else words[1:])
    parser = build_parser(selected)
    complete(parser)
    args = parser.parse_args(argv)
    if args.log_level not in LOG_LEVELS:
        parser.error(f"{LOG_LEVEL_VARIABLE}={args.log_level} is not one of {', '.join(LOG_LEVELS)}")
    if args.log_format not in logs.FORMATS:
        parser.error(
            f"{logs.LOG_FORMAT_VARIABLE}={args.log_format} is not one of {', '.join(logs.FORMATS)}"
        )
    logs.configure(args.log_level, args.log_format, own_process=own_process)
    if own_process:
        # Temporal's core logs through Python's logging, in the configured format (a worker
        # that serves metrics makes a runtime of its own with the same telemetry).
        from temporalio.runtime import Runtime

        Runtime.set_default(Runtime(telemetry=logs.telemetry()))
    try:
        return _load(args.command).run(args)
    except UserError as err:
        print(f"emco-migrate {args.command}: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return cli_help.INTERRUPTED
    except BrokenPipeError:  # e.g. `emco-migrate status ... | head`
        return cli_help.BROKEN_PIPE
