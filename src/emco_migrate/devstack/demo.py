"""`emco-migrate demo`: the seed's demonstration, start to finish, on this machine.

Starts a Temporal dev server (with its Web UI), the EMCO emulator, the worker and the HTTP
server on free local ports; applies samples/intents 00-05 with the emcoctl-compatible
applier; shows the migration as it happens; runs 06; optionally migrates back; stops
everything. Exit 0 on success, non-zero with the reason otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError

from emco_migrate import cli_help
from emco_migrate.cli_help import HelpSections
from emco_migrate.devstack.evacuation_demo import evacuate_and_fail_back
from emco_migrate.devstack.stack import ENVIRONMENT, HOST, LocalStack, StackPorts
from emco_migrate.emcoctl.client import EmcoHttp, new_http_client
from emco_migrate.emcoctl.commands import Runner, Verb
from emco_migrate.emcoctl.config import find_config
from emco_migrate.emcoctl.documents import read_resources
from emco_migrate.emcoctl.samples import (
    package_samples,
    samples_dir,
    write_config_file,
    write_values_file,
)
from emco_migrate.emcomigrate.names import QUERY_CURRENT_STATE, QUERY_PROGRESS
from emco_migrate.errors import UserError
from emco_migrate.temporal_connection import TemporalSettings, connect

HELP = "run the whole migration demo locally and exit"

PROJECT_PATH = "/v2/projects/proj1/composite-apps/hello-capp/v1/deployment-intent-groups/hello-dig"
APP = "hello-edge"
APP_INTENT = (
    f"{PROJECT_PATH}/generic-placement-intents/hello-placement/app-intents/hello-edge-placement"
)
WORKFLOW_TIMEOUT = 120.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Demo flags."""
    parser.add_argument(
        "--round-trip",
        action="store_true",
        help="after migrating to cluster 2, migrate back to cluster 1 (define-workflow-2.yaml)",
    )
    parser.add_argument(
        "--evacuate",
        action="store_true",
        help="instead: seed a fleet of DIGs, evacuate provider1/cluster1, then fail back",
    )
    parser.add_argument(
        "--ready-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how long the emulated clusters take to report resources Ready (default: 1.0)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the state folder (logs, packaged samples, values) after a successful run",
    )


def help_sections(command: str) -> HelpSections:
    """What ``demo --help`` ends with."""
    return HelpSections(
        environment=ENVIRONMENT,
        exit_codes={
            cli_help.OK: "the demo succeeded (its files are removed unless --keep)",
            cli_help.FAILED: "a step failed, or a port it needs is in use; the reason and the "
            "folder with the logs are named",
            cli_help.INTERRUPTED: "interrupted (Ctrl-C)",
        },
        examples=("emco-migrate demo --round-trip", "emco-migrate demo --evacuate --keep"),
    )


def run(args: argparse.Namespace) -> int:
    """Run the demo; raises `UserError` with the reason when a step fails."""
    if args.ready_delay < 0:
        raise UserError("--ready-delay must not be negative")
    state = Path(tempfile.mkdtemp(prefix="emco-migrate-demo-"))
    demo = Demo(
        state, ready_delay=args.ready_delay, round_trip=args.round_trip, evacuate=args.evacuate
    )
    try:
        demo.run()
    except UserError as err:
        raise UserError(f"{err} (logs and files kept in {state})") from None
    if not args.keep:
        shutil.rmtree(state, ignore_errors=True)
    else:
        print(f"State kept in {state}")
    return 0


@dataclass
class Demo:
    """One demo run; prints as it goes."""

    state: Path
    ready_delay: float = 1.0
    round_trip: bool = False
    evacuate: bool = False

    def __post_init__(self) -> None:
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:5.1f}s] {text}", flush=True)

    def run(self) -> None:
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self.say("starting Temporal dev server, EMCO emulator, worker and HTTP server")
        stack = LocalStack(self.state, StackPorts.free(ui=True), ready_delay=self.ready_delay)
        with stack:
            self.say(
                f"stack ready: Temporal {stack.temporal_address}, Web UI {stack.temporal_ui}, "
                f"EMCO emulator {stack.emco_url}, workflow client {stack.http_server_url}"
            )
            asyncio.run(self._evacuate(stack) if self.evacuate else self._demo(stack))
        self.say("stack stopped")

    async def _evacuate(self, stack: LocalStack) -> None:
        client = await connect(TemporalSettings(address=stack.temporal_address))
        await evacuate_and_fail_back(client, stack.emco_url, self.say)

    def _files(self, stack: LocalStack) -> tuple[Path, Path, Path]:
        built = package_samples(out_dir=self.state / "apps")
        values = write_values_file(
            self.state / "values-demo.yaml",
            {
                "EmcoURL": stack.emco_url,
                "ClmURL": stack.emco_url,
                "DcmURL": stack.emco_url,
                "WfClientHost": HOST,
                "WfClientPort": stack.ports.http_server,
                "TemporalServer": stack.temporal_address,
                "AppChart": built[APP],
                "AppProfile": built[f"{APP}-profile"],
            },
        )
        config = write_config_file(self.state / "emco-cfg-demo.yaml", stack.emco_url)
        return samples_dir() / "intents", values, config

    async def _demo(self, stack: LocalStack) -> None:
        intents, values, config = self._files(stack)
        applier = Applier(intents, values, config)
        for name in ("00.define-clusters-proj.yaml", "01.instantiate-lc.yaml",
                     "02.define-app-dig.yaml", "03.instantiate-dig.yaml"):  # fmt: skip
            self.say(await applier.apply(name))
        async with httpx.AsyncClient(base_url=stack.emco_url, timeout=10.0) as emco:
            await self._wait_ready(emco, "provider1", "cluster1")
            await self._show_placement(emco, "before")
            client = await connect(TemporalSettings(address=stack.temporal_address))
            await self._migrate(
                client, emco, applier, "04.define-workflow-1.yaml", "05.start-workflow.yaml",
                "migrate-to-cluster2", stack.dead,
            )  # fmt: skip
            self.say(await applier.get("06.get-workflow-status.yaml"))
            await self._show_placement(emco, "after")
            if self.round_trip:
                await self._migrate(
                    client, emco, applier, "define-workflow-2.yaml", "start-workflow-2.yaml",
                    "migrate-to-cluster1", stack.dead,
                )  # fmt: skip
                await self._show_placement(emco, "after the round trip")
        self.say(
            f"done: {APP} moved as planned. Temporal UI was at {stack.temporal_ui} "
            "(run `emco-migrate up` to keep a stack running)"
        )

    async def _wait_ready(self, emco: httpx.AsyncClient, provider: str, cluster: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            where = await cluster_resources(emco)
            states = where.get(f"{provider}/{cluster}", [])
            if states and all(s.endswith("Ready") and "NotReady" not in s for s in states):
                self.say(f"{APP} is Ready on {provider}/{cluster}")
                return
            await asyncio.sleep(0.2)
        raise UserError(f"{APP} did not become Ready on {provider}/{cluster} within 30s")

    async def _show_placement(self, emco: httpx.AsyncClient, when: str) -> None:
        response = await emco.get(APP_INTENT, headers={"Accept": "application/json"})
        intent = response.json().get("spec", {}).get("intent", {})
        self.say(f"placement {when}: app intent {placement_text(intent)}")
        for cluster, resources in sorted((await cluster_resources(emco)).items()):
            self.say(f"    {cluster}: {', '.join(resources) or '(nothing)'}")

    async def _migrate(
        self,
        client: Client,
        emco: httpx.AsyncClient,
        applier: Applier,
        define: str,
        start: str,
        workflow_id: str,
        dead: Callable[[], str | None],
    ) -> None:
        self.say(await applier.apply(define))
        self.say(await applier.apply(start))
        handle = client.get_workflow_handle(workflow_id)
        self.say(f"workflow {workflow_id} started; watching it")
        last_state = last_where = None
        deadline = time.monotonic() + WORKFLOW_TIMEOUT
        while True:
            if (reason := dead()) is not None:
                raise UserError(f"a stack process died: {reason}")
            description = await handle.describe()
            state = await handle.query(QUERY_CURRENT_STATE)
            if state != last_state:
                self.say(f"  current-state: {state}")
                last_state = state
            where = await cluster_resources(emco)
            if where != last_where:
                summary = "; ".join(f"{c}: {', '.join(r) or '-'}" for c, r in sorted(where.items()))
                self.say(f"  clusters: {summary}")
                last_where = where
            if description.status != WorkflowExecutionStatus.RUNNING:
                break
            if time.monotonic() > deadline:
                raise UserError(
                    f"workflow {workflow_id} did not finish within {WORKFLOW_TIMEOUT:g}s"
                )
            await asyncio.sleep(0.2)
        try:
            result: dict[str, Any] = await handle.result()
        except WorkflowFailureError as err:
            raise UserError(f"workflow {workflow_id} failed: {err.cause}") from None
        progress: dict[str, Any] = await handle.query(QUERY_PROGRESS)
        steps = ", ".join(f"{s['name']} {s['seconds']:.2f}s" for s in progress["steps"])
        self.say(f"  {result['message']} (revision {result['baseRevision']} -> "
                 f"{result['newRevision']}); steps: {steps}")  # fmt: skip


async def cluster_resources(emco: httpx.AsyncClient) -> dict[str, list[str]]:
    """``provider/cluster`` -> ``Kind/name State`` of the demo app's resources."""
    response = await emco.get("/emulator/v1/clusters")
    response.raise_for_status()
    return {
        f"{c['clusterProvider']}/{c['cluster']}": sorted(
            f"{r['kind']}/{r['name']} {r['state']}" for r in c["resources"] if r["app"] == APP
        )
        for c in response.json()
    }


@dataclass
class Applier:
    """Runs the emcoctl-compatible applier on the sample files, output captured."""

    intents: Path
    values: Path
    config: Path

    async def apply(self, name: str) -> str:
        return await asyncio.to_thread(self._run, Verb.APPLY, name)

    async def get(self, name: str) -> str:
        return await asyncio.to_thread(self._run, Verb.GET, name)

    def _run(self, verb: Verb, name: str) -> str:
        out = io.StringIO()
        resources = read_resources(self.intents / name, self.values, warn=lambda _m: None)
        with new_http_client() as client:
            runner = Runner(
                EmcoHttp(client, find_config(str(self.config))), out=out, stop_on_error=True
            )
            result = runner.run(verb, resources)
        if not result.succeeded:
            raise UserError(f"emcoctl {verb.value} -f {name} failed:\n{out.getvalue().strip()}")
        if verb is Verb.GET:
            return f"emcoctl get -f {name}: {_status_summary(out.getvalue())}"
        return f"emcoctl {verb.value} -f {name}: {result.ok} request(s) ok"


def _status_summary(output: str) -> str:
    """The workflowmgr status answer in one line: query result, phase and message."""
    bodies = [
        line[len("Response: ") :] for line in output.splitlines() if line.startswith("Response: ")
    ]
    try:
        status = json.loads(bodies[-1])
    except (IndexError, ValueError):
        return output.strip().splitlines()[-1] if output.strip() else "(no answer)"
    result = status.get("workflowResult") or {}
    return (
        f"workflowQueryResult={status.get('workflowQueryResult')!r}, "
        f"workflowResult phase={result.get('phase')!r}: {result.get('message', '')}"
    )


def placement_text(intent: dict[str, Any]) -> str:
    """An app intent's placement, e.g. ``allOf provider1/cluster1``."""
    parts = []
    for key in ("allOf", "anyOf"):
        names = [_where(e) for e in intent.get(key) or [] if isinstance(e, dict)]
        if names:
            parts.append(f"{key} {', '.join(names)}")
    return "; ".join(parts) or "(empty)"


def _where(entry: dict[str, Any]) -> str:
    cluster = entry.get("cluster") or f"label {entry.get('clusterLabel')}"
    return f"{entry.get('clusterProvider')}/{cluster}"
