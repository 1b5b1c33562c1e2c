"""`emco-migrate demo --evacuate`: a fleet evacuated and failed back on a local stack.

Seeds two projects of DIGs over three clusters in the emulator, evacuates provider1/cluster1
(auto targets, four at a time) with a live line per change, prints the table, fails every
moved DIG back, and checks that each is where it started.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable

import httpx
from temporalio.client import Client, WorkflowHandle

from emco_migrate.devstack.fleet_seed import SeededDig, placed_on, seed_project
from emco_migrate.devstack.processes import wait_until
from emco_migrate.emcomigrate.evacuation import EvacuationInput, EvacuationRequest
from emco_migrate.emcomigrate.fleet import FleetScope
from emco_migrate.emcomigrate.names import TASK_QUEUE, WORKFLOW_EVACUATE
from emco_migrate.emcomigrate.types import ClusterRef
from emco_migrate.errors import UserError
from emco_migrate.workflowclients.evacuate_cli import failback_input, print_report, watch

C1, C2, C3 = ("provider1", "cluster1"), ("provider2", "cluster2"), ("provider3", "cluster3")
MAX_IN_FLIGHT = 4
READY_TIMEOUT = 120.0


async def evacuate_and_fail_back(client: Client, emco_url: str, say: Callable[[str], None]) -> None:
    """The whole evacuation demo; raises `UserError` when a DIG is not where it should be."""
    with httpx.Client(base_url=emco_url, timeout=10.0) as emco:
        digs = seed_project(emco, [C1] * 12 + [C2] * 3, project="edge-east")
        digs += seed_project(emco, [C1] * 9 + [C3] * 2, project="edge-west")
        say(f"seeded {len(digs)} DIGs in edge-east and edge-west: {_where(emco, digs)}")
        wait_until(
            lambda: all(_ready(emco, d) for d in digs),
            timeout=READY_TIMEOUT,
            what="every seeded app Ready",
        )
        say("every app is Ready; evacuating provider1/cluster1, 4 DIGs at a time")
        request = EvacuationRequest(
            emco_url=emco_url,
            source=ClusterRef(*C1),
            scope=FleetScope(projects=("edge-east", "edge-west")),
            max_in_flight=MAX_IN_FLIGHT,
        )
        evacuation = await _run(
            client, EvacuationInput(request), f"evacuate-demo-{uuid.uuid4().hex[:6]}"
        )
        report = await watch(evacuation)
        print_report(report)
        say(f"after the evacuation: {_where(emco, digs)}")
        if any(C1 in placed_on(emco, d) for d in digs):
            raise UserError("a DIG is still placed on provider1/cluster1 after the evacuation")
        say("failing every moved DIG back")
        failback = await _run(
            client, failback_input(report, MAX_IN_FLIGHT, "10%"), f"{evacuation.id}-failback"
        )
        back = await watch(failback)
        print_report(back)
        say(f"after the failback: {_where(emco, digs)}")
        wrong = [d.key for d in digs if placed_on(emco, d) != [d.cluster]]
        if wrong:
            raise UserError(f"not back where they started: {', '.join(wrong)}")
        say(f"every DIG is back where it started ({back['counts']['moved']} moved back)")


async def _run(
    client: Client, value: EvacuationInput, workflow_id: str
) -> WorkflowHandle[object, dict[str, object]]:
    handle: WorkflowHandle[object, dict[str, object]] = await client.start_workflow(
        WORKFLOW_EVACUATE, value, id=workflow_id, task_queue=TASK_QUEUE, result_type=dict
    )
    return handle


def _where(emco: httpx.Client, digs: list[SeededDig]) -> str:
    counts = Counter(c for d in digs for c in placed_on(emco, d))
    return ", ".join(f"{n} on {p}/{c}" for (p, c), n in sorted(counts.items()))


def _ready(emco: httpx.Client, dig: SeededDig) -> bool:
    params = {"status": "ready", "cluster": "+".join(dig.cluster)}
    body = emco.get(f"{dig.dig_path}/status", params=params).json()
    return bool(body.get("readyStatus") == "Ready" and body.get("apps"))
