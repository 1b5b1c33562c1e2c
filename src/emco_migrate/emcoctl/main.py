"""``emco-migrate emcoctl``: apply, update, get or delete EMCO resources from YAML files.

Compatible with EMCO's emcoctl: the same configuration file, document format, ``-v`` values
templating, routing and requests. Differences, all deliberate: the exit code is 1 when any
request failed (emcoctl always exits 0); ``get`` failures count too, and ``-s`` works for
``get``; an anchor's query string is ignored when deciding whether it ends in an action
(so ``delete -f 06.get-workflow-status.yaml`` does nothing); a ``--config`` file that cannot
be read is an error (emcoctl silently uses the defaults); warnings about ignored keys and
missing template values go to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import httpx

from emco_migrate import cli_help
from emco_migrate.cli_help import HelpSections, Variable
from emco_migrate.emcoctl.client import EmcoHttp, new_http_client
from emco_migrate.emcoctl.commands import RunAborted, Runner, RunResult, Verb
from emco_migrate.emcoctl.config import ConfigError, EmcoctlConfig, find_config
from emco_migrate.emcoctl.documents import DocumentError, read_resources
from emco_migrate.errors import UserError

HELP = "apply/get/delete EMCO resource YAML (emcoctl-compatible)"


def help_sections(command: str) -> HelpSections:
    """What ``emcoctl --help`` ends with."""
    return HelpSections(
        environment=(Variable.one("HOME", "where the default --config, ~/.emco.yaml, is"),),
        exit_codes={
            cli_help.OK: "every request succeeded",
            cli_help.FAILED: "a request failed, or a file it cannot use (nothing sent)",
            cli_help.INTERRUPTED: "interrupted (Ctrl-C)",
        },
        examples=(
            "emco-migrate emcoctl --config emco-cfg.yaml apply -v values.yaml "
            "-f 00.define-clusters-proj.yaml",
            "emco-migrate emcoctl --config emco-cfg.yaml get -v values.yaml "
            "-f 06.get-workflow-status.yaml",
        ),
    )


def _split(values: list[str] | None) -> list[str]:
    """cobra's StringSlice flags: repeatable and comma-separated."""
    return [part for value in values or [] for part in value.split(",") if part]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags as emcoctl spells them."""
    parser.add_argument(
        "--config",
        metavar="CFG",
        help="emcoctl configuration file (default: ~/.emco.yaml, else built-in localhost ports)",
    )
    common = argparse.ArgumentParser(add_help=False)
    # Accepted after the command too, as cobra's persistent flag is.
    common.add_argument("--config", metavar="CFG", default=argparse.SUPPRESS, help="as above")
    common.add_argument(
        "-f",
        "--filename",
        action="append",
        metavar="FILE",
        help="resource file (only the first is used, as in emcoctl)",
    )
    common.add_argument(
        "-v",
        "--values",
        action="append",
        metavar="VALUES",
        help="values for the Go template in the file (only the first is used)",
    )
    common.add_argument("-t", "--token", action="append", help="bearer token for the EMCO API")
    common.add_argument(
        "-s", "--stop", action="store_true", help="stop at the first request that fails"
    )
    common.add_argument(
        "-w",
        "--waitTime",
        dest="wait_time",
        type=int,
        default=0,
        metavar="SECONDS",
        help="seconds to wait after a 202 Accepted answer (default: 0)",
    )
    common.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="HTTP timeout per request (default: 60)",
    )
    common.add_argument(
        "anchor", nargs="?", help="with no -f: the anchor to POST (empty body), GET or DELETE"
    )
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND")
    verbs.required = True
    summaries = {
        Verb.APPLY: "POST each document (multipart when it has file:/files:)",
        Verb.UPDATE: "PUT each document to anchor/<name>",
        Verb.GET: "GET each document's resource (action anchors are skipped)",
        Verb.DELETE: "DELETE in reverse order; instantiate/apply anchors are terminated",
    }
    for verb, summary in summaries.items():
        verbs.add_parser(verb.value, parents=[common], help=summary, description=summary)


def run(args: argparse.Namespace) -> int:
    """Run one emcoctl command; 0 when every request succeeded."""
    verb = Verb(args.verb)
    files = _split(args.filename)
    values = _split(args.values)
    if not files and not args.anchor:
        raise UserError(f"{verb.value} needs -f FILE or an anchor")
    if not files and verb is Verb.UPDATE:
        raise UserError("update needs -f FILE")
    for extra, what in ((files[1:], "-f"), (values[1:], "-v")):
        if extra:
            print(f"warning: emcoctl uses only the first {what}; ignoring {extra}", file=sys.stderr)
    try:
        config = find_config(args.config)
        resources = (
            read_resources(Path(files[0]), Path(values[0]) if values else None, warn=_warn)
            if files
            else []
        )
    except (ConfigError, DocumentError) as err:
        raise UserError(str(err)) from None
    _announce(config)
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        # httpx logs every request at INFO; the exchange blocks already show them.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    token = args.token[0] if args.token else None
    with new_http_client(token=token, timeout=httpx.Timeout(args.timeout, connect=10.0)) as client:
        runner = Runner(
            EmcoHttp(client, config),
            out=sys.stdout,
            stop_on_error=args.stop,
            accept_wait_seconds=args.wait_time,
        )
        try:
            result = runner.run(verb, resources) if files else runner.run_anchor(verb, args.anchor)
        except RunAborted as err:
            raise UserError(f"{verb.value}: {err}") from None
    return _summarize(verb, result)


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _announce(config: EmcoctlConfig) -> None:
    if config.source is not None:
        print(f"Using config file: {config.source}", file=sys.stderr)
    else:
        print("No configuration file found: using localhost defaults", file=sys.stderr)


def _summarize(verb: Verb, result: RunResult) -> int:
    if result.succeeded:
        return 0
    ending = " (stopped by -s)" if result.stopped else ""
    total = result.ok + result.failed
    print(
        f"emcoctl {verb.value}: {result.failed} of {total} requests failed{ending}",
        file=sys.stderr,
    )
    return 1
