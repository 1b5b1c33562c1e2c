"""``emco-migrate migrate`` (a migration from flags) and ``migrate-back`` (undo a finished one).

Both build the `WfTemporalSpec` EMCO's workflowmgr would send and start it through the migrate
workflow client, so the checks, the DIG lock refusal and the workflow are the same as for a
migration EMCO starts.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError

from emco_migrate import cli_help
from emco_migrate.cli_help import HelpSections
from emco_migrate.emcomigrate.endpoints import ALLOW_ENVIRONMENT
from emco_migrate.emcomigrate.names import ALL_ACTIVITIES
from emco_migrate.emcomigrate.types import Strategy
from emco_migrate.errors import UserError
from emco_migrate.task_queue import (
    TASK_QUEUE_ENVIRONMENT,
    add_task_queue_argument,
    task_queue_from,
)
from emco_migrate.temporal_connection import ENVIRONMENT as TEMPORAL_ENVIRONMENT
from emco_migrate.temporal_connection import connect
from emco_migrate.wire.temporal import StartOptionsSpec, TemporalSpec, WorkflowParamsSpec
from emco_migrate.workflowclients.cli_options import add_temporal_arguments, temporal_settings
from emco_migrate.workflowclients.evacuate_cli import cluster_ref, watch
from emco_migrate.workflowclients.inspection.follow import SUCCEEDED
from emco_migrate.workflowclients.migrate_workflowclient.client import MigrateWorkflowClient

HELP = "migrate a DIG's apps to another cluster, from flags"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``migrate`` or ``migrate-back``."""
    if parser.prog.rsplit(" ", 1)[-1] == "migrate-back":
        parser.add_argument("workflow_id", metavar="WORKFLOW_ID", help="a completed migration")
        parser.add_argument("--id", default="", metavar="ID", help="default: <ID>-back")
    else:
        parser.add_argument("--emco-url", required=True, metavar="URL", help="EMCO's orchestrator")
        parser.add_argument("--project", required=True)
        parser.add_argument("--composite-app", required=True)
        parser.add_argument("--version", required=True, help="the composite app's version")
        parser.add_argument("--dig", required=True, help="the deployment intent group")
        parser.add_argument("--to", required=True, metavar="PROVIDER/CLUSTER", help="target")
        parser.add_argument(
            "--from", dest="source", default="", metavar="PROVIDER/CLUSTER",
            help="move only the apps on this cluster",
        )  # fmt: skip
        parser.add_argument("--apps", default="", metavar="A,B", help="default: every app")
        parser.add_argument("--strategy", default=Strategy.DIRECT.value, choices=list(Strategy))
        parser.add_argument("--dry-run", action="store_true", help="plan only; write nothing")
        parser.add_argument("--id", default="", metavar="ID", help="default: migrate-<dig>-<hex>")
    parser.add_argument("--verify-timeout", type=int, default=None, metavar="SECONDS")
    parser.add_argument("--clm-url", default="", metavar="URL", help="clm (default: EMCO's)")
    parser.add_argument("--dcm-url", default="", metavar="URL", help="dcm (default: EMCO's)")
    parser.add_argument("--watch", action="store_true", help="print progress until the end")
    add_task_queue_argument(parser)
    add_temporal_arguments(parser)


def help_sections(command: str) -> HelpSections:
    """What ``migrate --help`` and ``migrate-back --help`` end with."""
    if command == "migrate-back":
        failed = (
            "the migration is still running, did not complete a move, cannot be moved back "
            "to one cluster, or (--watch) the move back did not succeed"
        )
        examples: tuple[str, ...] = (
            "emco-migrate migrate-back migrate-hello-dig-1a2b3c4d --watch",
        )
    else:
        failed = "the workflow ID is in use, or (--watch) the migration did not succeed"
        examples = (
            "emco-migrate migrate --emco-url http://emco.example:30415 --project proj1 "
            "--composite-app hello-capp --version v1 --dig hello-dig --to provider2/cluster2 "
            "--watch",
            "emco-migrate --version    (the program's version: here --version is the app's)",
        )
    return HelpSections(
        environment=(*TEMPORAL_ENVIRONMENT, TASK_QUEUE_ENVIRONMENT, ALLOW_ENVIRONMENT),
        exit_codes={
            cli_help.OK: "started; with --watch, it completed (or was a dry run or a no-op)",
            cli_help.FAILED: failed,
            cli_help.USAGE: "a flag it cannot use: nothing was started",
            **cli_help.CLIENT_EXITS,
        },
        examples=examples,
    )


def migration_spec(workflow_id: str, params: dict[str, str]) -> TemporalSpec:
    """The spec EMCO's workflowmgr would send for these activity parameters."""
    return TemporalSpec(
        workflow_client_name="migrate_workflowclient",
        start_options=StartOptionsSpec(id=workflow_id),
        params=WorkflowParamsSpec(activity_params={ALL_ACTIVITIES: params}),
    )


def params_from(args: argparse.Namespace) -> dict[str, str]:
    """``migrate``'s flags as activity parameters; a bad cluster is a `UserError`."""
    target = cluster_ref("--to", args.to)
    params = {
        "emcoURL": args.emco_url,
        "project": args.project,
        "compositeApp": args.composite_app,
        "compositeAppVersion": args.version,
        "deploymentIntentGroup": args.dig,
        "targetClusterProvider": target.provider,
        "targetClusterName": target.cluster,
        "strategy": args.strategy,
    }
    if args.source:
        source = cluster_ref("--from", args.source)
        params |= {"sourceClusterProvider": source.provider, "sourceClusterName": source.cluster}
    if args.apps:
        params["apps"] = args.apps
    if args.dry_run:
        params["dryRun"] = "true"
    return params


def back_params(result: dict[str, Any]) -> dict[str, str]:
    """The migration that returns a completed one's apps to their recorded placement: the
    same DIG and apps, from the cluster it moved them to, to the one cluster they were on."""
    if result.get("phase") != "completed" or not isinstance(result.get("dig"), dict):
        raise UserError(
            f"that migration did not complete a move (phase {result.get('phase')!r}); "
            "nothing to move back"
        )
    before: set[tuple[str, str]] = set()
    for item in result.get("plan") or ():
        placement = item.get("currentPlacement") or {}
        named = placement.get("allOf") or []
        if placement.get("anyOf") or len(named) != 1:
            raise UserError(
                f"app {item.get('app')} was placed by {placement} before the migration, not on "
                "one cluster: move it back with `migrate --to`, choosing the cluster"
            )
        before.add((named[0]["clusterProvider"], named[0]["cluster"]))
    if len(before) != 1:
        raise UserError(f"the apps came from {len(before)} clusters; migrate-back moves to one")
    [(provider, cluster)] = before
    moved_to = str(result["target"]).partition("+")
    apps = sorted({str(item["app"]) for item in result.get("plan") or ()})
    return {
        **{k: str(v) for k, v in result["dig"].items()},
        "targetClusterProvider": provider,
        "targetClusterName": cluster,
        "sourceClusterProvider": moved_to[0],
        "sourceClusterName": moved_to[2],
        "apps": ",".join(apps),
        "strategy": str(result.get("strategy") or Strategy.DIRECT.value),
    }


def with_settings(args: argparse.Namespace, params: dict[str, str]) -> dict[str, str]:
    """``params`` with the flags both commands share (verification timeout, clm and dcm)."""
    if args.verify_timeout is not None:
        params["verifyTimeoutSeconds"] = str(args.verify_timeout)
    for key, url in (("clmURL", args.clm_url), ("dcmURL", args.dcm_url)):
        if url:
            params[key] = url
    return params


def run(args: argparse.Namespace) -> int:
    """Start the migration (and with ``--watch`` follow it to its end)."""
    return asyncio.run(start(args))


async def start(args: argparse.Namespace) -> int:
    back = hasattr(args, "workflow_id")
    starter = MigrateWorkflowClient(task_queue=task_queue_from(args.task_queue))
    if back:
        workflow_id = args.id or f"{args.workflow_id}-back"
        client = await connect(temporal_settings(args))
        params = with_settings(args, back_params(await _completed(client, args.workflow_id)))
        spec = migration_spec(workflow_id, params)
    else:
        workflow_id = args.id or f"migrate-{args.dig}-{uuid.uuid4().hex[:8]}"
        params = with_settings(args, params_from(args))
        spec = migration_spec(workflow_id, params)
        starter.check(spec)  # a bad flag is one line before Temporal is even contacted
        client = await connect(temporal_settings(args))
    started = await starter.start(client, spec)
    target = f"{params['targetClusterProvider']}+{params['targetClusterName']}"
    dig = params["deploymentIntentGroup"]
    print(f"started migration {started.workflow_id} of {dig} to {target}", flush=True)
    if not args.watch:
        return 0
    handle = client.get_workflow_handle(started.workflow_id, result_type=dict)
    try:
        result = await watch(handle)
    except WorkflowFailureError as err:
        print(f"failed: {getattr(err.cause, 'message', None) or err.cause}")
        return 1
    print(f"{result.get('phase')}: {result.get('message')}")
    return 0 if result.get("phase") in SUCCEEDED else 1


async def _completed(client: Client, workflow_id: str) -> dict[str, Any]:
    handle = client.get_workflow_handle(workflow_id, result_type=dict)
    try:
        if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            raise UserError(f"migration {workflow_id} is still running; wait for it to end")
        result: dict[str, Any] = await handle.result(follow_runs=False)
    except RPCError as err:
        raise UserError(f"migration {workflow_id}: {err.message}") from None
    except WorkflowFailureError as err:
        raise UserError(f"migration {workflow_id} did not complete: {err.cause}") from None
    return result
