"""``emco-migrate evacuate``: start (and watch) the evacuation of a cluster; ``pause``,
``resume``, ``abort`` and ``set-max-in-flight`` steer a running one.

Exit codes: 0 every selected DIG moved (or a dry run, or a control accepted), 1 some did not
(rolled back, failed, not started), 2 bad input (nothing started), 3 Temporal unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from typing import Any

from temporalio.client import (
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.service import RPCError

from emco_migrate import cli_help
from emco_migrate.cli_help import HelpSections
from emco_migrate.emcomigrate import fleet, param_schema
from emco_migrate.emcomigrate.endpoints import UrlRefused, base_url
from emco_migrate.emcomigrate.evacuation import EvacuationInput, EvacuationRequest
from emco_migrate.emcomigrate.fleet import DigEntry, DigOutcome, FleetScope
from emco_migrate.emcomigrate.names import (
    QUERY_PROGRESS,
    SIGNAL_ABORT,
    SIGNAL_CANCEL_FAILBACK,
    SIGNAL_FAILBACK_NOW,
    SIGNAL_PAUSE,
    SIGNAL_RESUME,
    UPDATE_MAX_IN_FLIGHT,
    WORKFLOW_EVACUATE,
)
from emco_migrate.emcomigrate.types import ClusterRef, ParamError, Strategy
from emco_migrate.errors import UserError
from emco_migrate.task_queue import (
    TASK_QUEUE_ENVIRONMENT,
    add_task_queue_argument,
    task_queue_from,
)
from emco_migrate.temporal_connection import ENVIRONMENT as TEMPORAL_ENVIRONMENT
from emco_migrate.temporal_connection import connect
from emco_migrate.workflowclients.cli_options import add_temporal_arguments, temporal_settings
from emco_migrate.workflowclients.errors import InvalidSpec

HELP = "evacuate a cluster: migrate every DIG placed on it, a few at a time"
CONTROL_HELP = {
    "pause": "pause an evacuation (children in flight finish)",
    "resume": "resume a paused evacuation",
    "abort": "abort an evacuation (children in flight roll back)",
    "set-max-in-flight": "change how many DIGs an evacuation moves at once",
    "failback-now": "start an evacuation's failback now instead of at its failbackAt",
    "cancel-failback": "cancel an evacuation's failback at failbackAt",
}
FAILBACK_HELP = "move every DIG an evacuation moved back where it was"
WATCH_EVERY = 1.0


def help_sections(command: str) -> HelpSections:
    """What ``evacuate --help``, ``failback --help`` and each control's end with."""
    if command in CONTROL_HELP:
        codes = {
            cli_help.OK: f"{command} sent" if command != "set-max-in-flight" else "changed",
            cli_help.FAILED: "no such evacuation, or it has ended",
            **cli_help.CLIENT_EXITS,
        }
        if command == "set-max-in-flight":
            codes[cli_help.USAGE] = "wrong usage, or the evacuation refused the value"
        example = f"emco-migrate {command} evacuate-provider1-cluster1-1a2b3c4d"
        return HelpSections(
            environment=TEMPORAL_ENVIRONMENT,
            exit_codes=codes,
            examples=(example + (" 4" if command == "set-max-in-flight" else ""),),
        )
    moved = "every DIG moved back" if command == "failback" else "every selected DIG moved"
    if command == "failback":
        not_started = "the evacuation did not complete, or its failback ID is in use"
        examples: tuple[str, ...] = (
            "emco-migrate failback evacuate-provider1-cluster1-1a2b3c4d --watch",
        )
    else:
        not_started = "the evacuation ID is in use"
        examples = (
            "emco-migrate evacuate --emco-url http://emco.example:30415 "
            "--cluster provider1/cluster1 --max-in-flight 4 --watch",
            "emco-migrate evacuate --emco-url http://emco.example:30415 "
            "--cluster provider1/cluster1 --dry-run",
        )
    return HelpSections(
        environment=(*TEMPORAL_ENVIRONMENT, TASK_QUEUE_ENVIRONMENT),
        exit_codes={
            cli_help.OK: f"started; with --watch (or --dry-run), {moved} or had nothing to move",
            cli_help.FAILED: f"{not_started}, or (--watch) some DIGs were not moved "
            "(rolled back, failed, not started)",
            cli_help.USAGE: "a flag it cannot use: nothing was started",
            **cli_help.CLIENT_EXITS,
        },
        examples=examples,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``evacuate`` (or, for a control command, the evacuation ID)."""
    command = parser.prog.rsplit(" ", 1)[-1]
    if command == "failback":
        parser.add_argument("evacuation_id", metavar="EVACUATION_ID")
        parser.add_argument("--max-in-flight", type=int, default=10, metavar="N")
        parser.add_argument("--failure-budget", default="10%", metavar="N|P%")
        parser.add_argument("--start-at", default="", metavar="ISO8601")
        parser.add_argument("--window-end", default="", metavar="ISO8601")
        parser.add_argument("--id", default="", metavar="ID", help="default: <ID>-failback")
        parser.add_argument("--watch", action="store_true", help="print progress until the end")
        add_task_queue_argument(parser)
        add_temporal_arguments(parser)
        return
    if command in CONTROL_HELP:
        parser.add_argument("evacuation_id", metavar="EVACUATION_ID")
        if command == "set-max-in-flight":
            parser.add_argument("value", type=int, metavar="N")
        add_temporal_arguments(parser)
        return
    parser.add_argument("--emco-url", required=True, metavar="URL", help="EMCO's orchestrator")
    parser.add_argument("--dcm-url", default="", metavar="URL", help="dcm (default: --emco-url)")
    parser.add_argument("--cluster", required=True, metavar="PROVIDER/CLUSTER", help="evacuate")
    parser.add_argument(
        "--to", default="auto", metavar="PROVIDER/CLUSTER|auto", help="target (default: auto)"
    )
    parser.add_argument("--exclude", action="append", default=[], metavar="PROVIDER/CLUSTER")
    parser.add_argument("--project", action="append", default=[], metavar="NAME")
    parser.add_argument("--composite-app", action="append", default=[], metavar="NAME")
    parser.add_argument("--dig", action="append", default=[], metavar="GLOB")
    parser.add_argument(
        "--priority",
        action="append",
        default=[],
        metavar="GLOB",
        help="move DIGs whose PROJECT/APP/VERSION/DIG matches first (repeat: in that order)",
    )
    parser.add_argument("--max-in-flight", type=int, default=10, metavar="N")
    parser.add_argument("--failure-budget", default="10%", metavar="N|P%")
    parser.add_argument("--strategy", default=Strategy.DIRECT.value, choices=list(Strategy))
    parser.add_argument("--verify-timeout", type=int, default=600, metavar="SECONDS")
    parser.add_argument(
        "--write-settle",
        type=int,
        default=param_schema.DEFAULT_WRITE_SETTLE_SECONDS,
        metavar="SECONDS",
        help="how long each migration waits for a write it gave up on (writeSettleSeconds)",
    )
    parser.add_argument("--start-at", default="", metavar="ISO8601")
    parser.add_argument("--window-end", default="", metavar="ISO8601")
    parser.add_argument("--failback-at", default="", metavar="ISO8601", help="move back then")
    parser.add_argument("--dry-run", action="store_true", help="plan only; write nothing")
    parser.add_argument("--id", default="", metavar="ID", help="evacuation ID (default: new)")
    parser.add_argument("--watch", action="store_true", help="print progress until the end")
    add_task_queue_argument(parser)
    add_temporal_arguments(parser)


def cluster_ref(flag: str, text: str) -> ClusterRef:
    """``PROVIDER/CLUSTER`` as a `ClusterRef`; raises `InvalidSpec` naming the flag."""
    provider, _, cluster = text.partition("/")
    if not provider or not cluster or "/" in cluster:
        raise InvalidSpec(flag, f"{text!r} is not PROVIDER/CLUSTER")
    return ClusterRef(provider, cluster)


def request_from(args: argparse.Namespace) -> EvacuationRequest:
    """The checked request the flags describe; raises `InvalidSpec`."""
    try:
        request = EvacuationRequest(
            emco_url=base_url(args.emco_url),
            dcm_url=base_url(args.dcm_url) if args.dcm_url else "",
            source=cluster_ref("--cluster", args.cluster),
            target=None if args.to == "auto" else cluster_ref("--to", args.to),
            exclude=tuple(cluster_ref("--exclude", e) for e in args.exclude),
            priority=tuple(args.priority),
            scope=FleetScope(tuple(args.project), tuple(args.composite_app), tuple(args.dig)),
            max_in_flight=args.max_in_flight,
            failure_budget=args.failure_budget,
            strategy=args.strategy,
            verify_timeout_seconds=args.verify_timeout,
            write_settle_seconds=args.write_settle,
            dry_run=args.dry_run,
            start_at=args.start_at,
            window_end=args.window_end,
            failback_at=args.failback_at,
        )
        request.check()
    except UrlRefused as err:
        raise InvalidSpec("--emco-url", str(err)) from None
    except ParamError as err:
        raise InvalidSpec(err.field, err.reason) from None
    return request


def run(args: argparse.Namespace) -> int:
    """Start or steer an evacuation."""
    if args.command in CONTROL_HELP:
        return asyncio.run(control(args))
    if args.command == "failback":
        return asyncio.run(failback(args))
    request = request_from(args)
    return asyncio.run(start(args, request))


def failback_input(
    report: dict[str, Any],
    max_in_flight: int,
    budget: str,
    *,
    start_at: str = "",
    window_end: str = "",
) -> EvacuationInput:
    """The failback of a finished evacuation, from its report; raises `UserError`."""
    if report.get("kind") != "evacuation" or "digs" not in report:
        raise UserError("that workflow's result is not an evacuation report")
    provider, _, cluster = str(report["source"]).partition("+")
    source = ClusterRef(provider, cluster)
    moved: list[DigEntry] = []
    if "packedDigs" in report:  # a fleet larger than its report lists
        moved.extend(fleet.unpack(str(report["packedDigs"]), fleet.Entries))
    for dig in report["digs"] if not moved else ():
        project, composite_app, version, name = str(dig["dig"]).split("/")
        to_provider, _, to_cluster = str(dig["target"]).partition("+")
        moved.append(
            DigEntry(
                dig["dig"],
                project,
                composite_app,
                version,
                name,
                tuple(dig["apps"]),
                ClusterRef(to_provider, to_cluster),
                tuple(tuple(i) for i in dig["intents"]),
                outcome=DigOutcome(dig["outcome"]),
            )
        )
    request = EvacuationRequest(
        emco_url=str(report["emcoURL"]),
        source=source,
        max_in_flight=max_in_flight,
        failure_budget=budget,
        start_at=start_at,
        window_end=window_end,
    )
    try:
        request.check()
    except ParamError as err:
        raise InvalidSpec(err.field, err.reason) from None
    return EvacuationInput(
        request, failback_plan=fleet.pack(fleet.failback_entries(moved, source), fleet.Entries)
    )


async def failback(args: argparse.Namespace) -> int:
    """Start the failback of a completed evacuation."""
    task_queue = task_queue_from(args.task_queue)
    client = await connect(temporal_settings(args))
    evacuation = client.get_workflow_handle(args.evacuation_id, result_type=dict)
    try:
        report = await evacuation.result(follow_runs=True)
    except RPCError as err:
        raise UserError(f"evacuation {args.evacuation_id}: {err.message}") from None
    except WorkflowFailureError as err:
        raise UserError(f"evacuation {args.evacuation_id} did not complete: {err.cause}") from None
    value = failback_input(
        report,
        args.max_in_flight,
        args.failure_budget,
        start_at=args.start_at,
        window_end=args.window_end,
    )
    failback_id = args.id or f"{args.evacuation_id}-failback"
    try:
        handle: WorkflowHandle[Any, dict[str, Any]] = await client.start_workflow(
            WORKFLOW_EVACUATE, value, id=failback_id, task_queue=task_queue, result_type=dict
        )
    except RPCError as err:
        raise UserError(f"cannot start failback {failback_id}: {err.message}") from None
    count = len(value.failback_entries() or ())
    print(f"started failback {failback_id} of {count} DIG(s)", flush=True)
    if not args.watch:
        return 0
    report = await watch(handle)
    print_report(report)
    return exit_code(report)


async def start(args: argparse.Namespace, request: EvacuationRequest) -> int:
    """Start the evacuation; with ``--watch`` or ``--dry-run`` follow it to the end."""
    task_queue = task_queue_from(args.task_queue)
    client = await connect(temporal_settings(args))
    source = request.source
    evacuation_id = args.id or f"evacuate-{source.provider}-{source.cluster}-{uuid.uuid4().hex[:8]}"
    try:
        handle: WorkflowHandle[Any, dict[str, Any]] = await client.start_workflow(
            WORKFLOW_EVACUATE,
            EvacuationInput(request),
            id=evacuation_id,
            task_queue=task_queue,
            result_type=dict,
        )
    except RPCError as err:
        raise UserError(f"cannot start evacuation {evacuation_id}: {err.message}") from None
    print(f"started evacuation {evacuation_id} of {request.source}", flush=True)
    if not (args.watch or args.dry_run):
        return 0
    report = await watch(handle)
    print_report(report)
    return exit_code(report)


async def watch(handle: WorkflowHandle[Any, dict[str, Any]]) -> dict[str, Any]:
    """Print one line whenever the evacuation's message changes; its final report."""
    started, last = time.monotonic(), ""
    result = asyncio.ensure_future(handle.result())
    while not result.done():
        try:
            progress: dict[str, Any] = await handle.query(QUERY_PROGRESS)
        except RPCError:
            progress = {}
        line = f"{progress.get('phase', '')}: {progress.get('message', '')}"
        if progress and line != last:
            print(f"[{time.monotonic() - started:6.1f}s] {line}", flush=True)
            last = line
        await asyncio.wait([result], timeout=WATCH_EVERY)
    return result.result()


def print_report(report: dict[str, Any]) -> None:
    """A table of DIGs and outcomes, then the skipped ones and the summary."""
    for line in report_table(report):
        print(line)
    print(f"{report['phase']}: {report['message']}")


def report_table(report: dict[str, Any]) -> list[str]:
    """The report's DIGs as a table (DIG, move, outcome, seconds, reason or child workflow
    ID), then what it left out and the skipped DIGs."""
    rows = [("DIG", "MOVE", "OUTCOME", "SECONDS", "REASON / CHILD WORKFLOW")]
    for d in report["digs"]:
        source = d.get("from") or report.get("source", "")
        seconds = "" if d.get("seconds") is None else f"{d['seconds']:.1f}"
        rows.append(
            (
                d["dig"],
                f"{source} -> {d['target']}",
                d["outcome"],
                seconds,
                d["reason"] or d.get("workflowID", ""),
            )
        )
    lines = []
    if len(rows) > 1:
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            cells[3] = row[3].rjust(widths[3])
            lines.append("  " + "  ".join([*cells, row[4]]).rstrip())
    if report.get("digsOmitted"):
        lines.append(
            f"  ... and {report['digsOmitted']} moved DIG(s) not listed (-o json: packedDigs)"
        )
    for skipped in report["skipped"]:
        lines.append(f"  skipped {skipped['dig']}: {skipped['reason']}")
    if report.get("skippedOmitted"):
        lines.append(f"  ... and {report['skippedOmitted']} more skipped")
    return lines


def report_header(report: dict[str, Any], status: str = "") -> list[str]:
    """Who, what and how far: the lines above the table."""
    counts = report["counts"]
    finished = ("moved", "unchanged", "rolled back", "failed", "not started")
    done = sum(counts.get(o, 0) for o in finished)
    eta = report.get("etaSeconds")
    lines = [
        f"{report['kind']} {report['evacuation']}"
        + (f" ({status})" if status else "")
        + f": {report['phase']}",
        f"  source {report['source']}, EMCO {report['emcoURL']}, "
        f"at most {report['maxInFlight']} in flight" + (", paused" if report["paused"] else ""),
        f"  {done} of {sum(counts.values())} DIG(s) done: {report['message']}"
        + (f"; about {eta:.0f}s left" if eta and report["phase"] == "running" else ""),
    ]
    evacuated = report.get("evacuated")
    if isinstance(evacuated, dict):
        lines.append(
            f"  after evacuation {evacuated.get('evacuation', '')}: {evacuated.get('message', '')}"
        )
    return lines


def exit_code(report: dict[str, Any]) -> int:
    """0 when every selected DIG moved or had nothing left to move (or none was selected),
    or a dry run; else 1."""
    return 0 if fleet.report_succeeded(report) else 1


async def control(args: argparse.Namespace) -> int:
    """Send pause/resume/abort, or change maxInFlight."""
    client = await connect(temporal_settings(args))
    handle = client.get_workflow_handle(args.evacuation_id)
    try:
        if args.command == "set-max-in-flight":
            value = await handle.execute_update(UPDATE_MAX_IN_FLIGHT, args.value)
            print(f"evacuation {args.evacuation_id}: maxInFlight is now {value}")
            return 0
        signal = {
            "pause": SIGNAL_PAUSE,
            "resume": SIGNAL_RESUME,
            "abort": SIGNAL_ABORT,
            "failback-now": SIGNAL_FAILBACK_NOW,
            "cancel-failback": SIGNAL_CANCEL_FAILBACK,
        }
        await handle.signal(signal[args.command])
    except RPCError as err:
        raise UserError(f"evacuation {args.evacuation_id}: {err.message}") from None
    except WorkflowUpdateFailedError as err:  # the workflow's validator refused the value
        reason = str(err.cause or err)
        raise InvalidSpec("N", reason) from None
    print(f"evacuation {args.evacuation_id}: {args.command} sent")
    return 0
