"""The metrics as a real Prometheus sees them: a worker and the HTTP server scraped during a
completed and a rolled-back migration (with a worker SIGKILLed and restarted in between), and
every query of the Grafana dashboard and of the alert rules answered with data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from emco_migrate.devstack.processes import ManagedProcess, free_port, http_ok, wait_until
from emco_migrate.devstack.temporal_dev import TemporalDevServer
from support.emulator import Emulator, SampleSetup
from support.prometheus import Prometheus, describe, running_prometheus, tools
from support.stack import Starter, vector_input
from support.waiting import poll

from .conftest import WorkerProcesses
from .helpers import placement, wait_for_state

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
DASHBOARD = ROOT / "deployment" / "grafana" / "emco-migrate.json"
RULES = ROOT / "deployment" / "prometheus" / "alerts.yaml"
# Grafana's own variables, expanded as Grafana would for a one-hour dashboard (the whole
# test fits in every window).
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__range": "1h", "$__interval": "15s"}

QUICK = {
    "all-activities": {
        "StartToCloseTimeout": 30_000_000_000,
        "RetryPolicy": {"InitialInterval": 200_000_000, "MaximumInterval": 1_000_000_000},
    },
    # The shortest heartbeat timeout verification accepts: a killed worker's verification
    # is retried by the next worker 5 s later.
    "VerifyMigration": {"StartToCloseTimeout": 1, "HeartbeatTimeout": 5_000_000_000},
}
STARTED = "sum(emco_migrate_migrations_started_total)"
ERRORS = "emco_migrate_emco_requests_total{status_class='5xx'}"
IN_FLIGHT = (
    "round(sum(increase(emco_migrate_migration_phase_entered_total[1h]))"
    " - sum(increase(emco_migrate_migration_phase_left_total[1h])))"
)


def grafana(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"a Grafana variable the test does not expand: {expr}"
    return expr


def dashboard_queries() -> dict[str, list[str]]:
    """Each panel's title and its queries."""
    dashboard = json.loads(DASHBOARD.read_text())
    return {
        f"panel: {panel['title']}": [grafana(t["expr"]) for t in panel["targets"]]
        for panel in dashboard["panels"]
        if panel.get("targets")
    }


def rules() -> list[dict[str, Any]]:
    return [
        rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]
    ]


def rule_queries() -> dict[str, list[str]]:
    """Each recording rule's expression; each alert's compared series (``X > threshold``:
    X must be a recorded series, so an alert that does not fire still shows its data)."""
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    queries: dict[str, list[str]] = {}
    for rule in rules():
        if "record" in rule:
            queries[f"record: {rule['record']}"] = [rule["expr"]]
            continue
        series, operator, threshold = rule["expr"].split()
        assert series in recorded and operator in ("<", ">"), rule["alert"]
        float(threshold)
        queries[f"alert: {rule['alert']}"] = [rule["expr"].split()[0]]
    return queries


def invoke_body(workflow_id: str, setup: SampleSetup, **params: str) -> bytes:
    """What EMCO's workflowmgr POSTs to start a migration of ``setup``'s DIG."""
    workflow_params = json.loads(
        vector_input(options=QUICK, **{**setup.activity_params(), **params})
    )
    return json.dumps(
        {
            "workflowClientName": "migrate_workflowclient",
            "workflowStartOptions": {"ID": workflow_id, "TaskQueue": "MIGRATION_TASK_Q"},
            "workflowParams": workflow_params,
        }
    ).encode()


@pytest.fixture
def http_server(
    temporal_server: TemporalDevServer, task_queue: str, tmp_path: Path
) -> Iterator[str]:
    """``emco-migrate http-server`` on loopback, starting on the test's task queue."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "EMCO_"))}
    env.update(TEMPORAL_ADDRESS=temporal_server.address, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "emco_migrate", "http-server", "--host", "127.0.0.1"]
    process = ManagedProcess(
        "http-server",
        [*command, "--port", str(port), "--task-queue", task_queue],
        log_path=tmp_path / "http-server.log",
        env=env,
    )
    process.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: http_ok(f"{url}/readyz"), timeout=30, what="http-server",
            alive=process.exit_reason,
        )  # fmt: skip
        yield url
    finally:
        process.stop()


def test_the_rules_pass_promtool() -> None:
    _, promtool = tools()
    result = subprocess.run(
        [str(promtool), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout
    assert rule_queries()  # every alert compares a recorded series with a number


@pytest.mark.timeout(300)
async def test_every_dashboard_and_alert_query_returns_data(
    workers: WorkerProcesses,
    http_server: str,
    starter: Starter,
    temporal_client: Client,
    emulator_reset: Emulator,
    sample_setup: SampleSetup,
    tmp_path: Path,
) -> None:
    setup = sample_setup
    metrics_port = free_port()
    jobs = {"worker": [f"127.0.0.1:{metrics_port}"], "http-server": [http_server[7:]]}
    with running_prometheus(tmp_path, jobs, [RULES]) as prometheus:
        first = workers.start("--metrics-port", str(metrics_port))
        poll(lambda: prometheus.jobs_up() == set(jobs), what="both targets scraped")
        # The worker's counters at zero, scraped before any migration: the first one is an
        # increase.
        poll(lambda: prometheus.value(STARTED) == 0, what="the worker's counters scraped")

        # A completed migration, started through the HTTP server as EMCO does; one EMCO
        # request answers 503 (the client repeats it).
        emulator_reset.add_fault(f"^{setup.app_intent_path}$", 503, method="PUT", count=1)
        completed = await invoke(http_server, temporal_client, starter, setup)
        await completed.result()
        poll(lambda: finished(prometheus) == {"completed": 1}, what="the completion scraped")

        # A migration back to cluster1, which never gets Ready: it rolls back. The worker is
        # SIGKILLed while it verifies, once Prometheus has scraped its counts.
        emulator_reset.set_cluster("provider1", "cluster1", never_ready=True)
        rolled_back = await invoke(
            http_server, temporal_client, starter, setup,
            targetClusterProvider="provider1", targetClusterName="cluster1",
            verifyTimeoutSeconds="20",
        )  # fmt: skip
        await wait_for_state(rolled_back, "VerifyMigration")
        entered = "sum(emco_migrate_migration_phase_entered_total{phase='migrating'})"
        poll(lambda: prometheus.value(entered) == 2, what="the migrating phases scraped")
        # Series born with their first count (the EMCO error, the completed migration's
        # duration) need two samples before rate() answers for them.
        for series in (ERRORS, "emco_migrate_migration_duration_seconds_count"):
            scraped_twice = partial(prometheus.query, f"min(count_over_time({series}[1h])) >= 2")
            poll(scraped_twice, what=f"two scrapes of {series}")
        assert prometheus.value(STARTED) == 2
        first.kill()
        workers.start("--metrics-port", str(metrics_port))
        # The new worker's counters start at zero, and replaying does not count again.
        poll(
            lambda: prometheus.value(STARTED) == 0,
            what="the restarted worker scraped",
        )

        # started = finished + in flight, across the restart.
        assert started(prometheus) == 2
        assert finished(prometheus) == {"completed": 1}
        assert prometheus.value(IN_FLIGHT) == 1
        by_phase = in_flight_by_phase(prometheus)
        assert by_phase == {"planning": 0, "migrating": 1, "compensating": 0}

        with pytest.raises(WorkflowFailureError) as caught:
            await rolled_back.result()
        assert isinstance(caught.value.cause, ApplicationError)
        assert caught.value.cause.type == "MigrationRolledBack"
        assert placement(emulator_reset, setup) == {"provider2+cluster2": ["Ready", "Ready"]}
        poll(
            lambda: finished(prometheus) == {"completed": 1, "rolled-back": 1},
            what="the rolled-back migration scraped",
        )
        assert started(prometheus) == 2
        assert prometheus.value(IN_FLIGHT) == 0
        poll(lambda: alert_state(prometheus, "EmcoMigrateMigrationsRollingBack") == "firing",
             what="the rollback alert firing")  # fmt: skip

        queries = {**dashboard_queries(), **rule_queries()}
        without_data = []
        for name, exprs in queries.items():
            for expr in exprs:
                samples = prometheus.query(expr)
                numbers = [s for s in samples if s.is_number]
                # A quantile of a series that only has its first observation is NaN: rate()
                # sees no increase in a series born with it (one migration of each outcome
                # per worker here). It has data; the counts behind it are checked below.
                quantile = "histogram_quantile" in expr or name.startswith("alert: ")
                if not (samples if quantile and samples else numbers):
                    without_data.append(f"{name}: {expr} -> {describe(samples)}")
        assert not without_data, "\n".join(without_data)

        # What the panels show, as a user would check them.
        compensations = prometheus.query(
            "round(sum by (reason, step) (increase(emco_migrate_compensations_total[1h]))) > 0"
        )
        assert [s.labels for s in compensations] == [
            {"reason": "step-failed", "step": "VerifyMigration"}
        ]
        errors = prometheus.query(f"sum by (endpoint, method) (max_over_time({ERRORS}[1h]))")
        assert [(s.labels, s.value) for s in errors] == [
            ({"endpoint": "app-intent", "method": "PUT"}, 1)
        ]
        durations = prometheus.query(
            "sum by (outcome) (max_over_time(emco_migrate_migration_duration_seconds_count[1h]))"
        )
        assert {s.labels["outcome"]: s.value for s in durations} == {
            "completed": 1,
            "rolled-back": 1,
        }
        invokes = prometheus.query(
            "round(sum by (client, code) (increase(emco_migrate_http_invokes_total[1h]))) > 0"
        )
        assert [(s.labels, s.value) for s in invokes] == [
            ({"client": "migrate_workflowclient", "code": "204"}, 2)
        ]
        assert {r["health"] for r in prometheus.rules()} == {"ok"}


async def invoke(
    url: str, client: Client, starter: Starter, setup: SampleSetup, **params: str
) -> Any:
    """POST /invoke/migrate_workflowclient; the started workflow's handle."""
    workflow_id = f"test-{uuid.uuid4()}"
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as http:
        response = await http.post(
            "/invoke/migrate_workflowclient", content=invoke_body(workflow_id, setup, **params)
        )
    assert response.status_code == 204, response.text
    handle = client.get_workflow_handle(workflow_id)
    starter.handles.append(handle)
    return handle


def started(prometheus: Prometheus) -> float | None:
    return prometheus.value("round(sum(increase(emco_migrate_migrations_started_total[1h])))")


def finished(prometheus: Prometheus) -> dict[str, float]:
    """Migrations that ended, by outcome (those with none left out)."""
    samples = prometheus.query(
        "round(sum by (outcome) (increase(emco_migrate_migrations_finished_total[1h]))) > 0"
    )
    return {s.labels["outcome"]: s.value for s in samples}


def in_flight_by_phase(prometheus: Prometheus) -> dict[str, float]:
    samples = prometheus.query(
        "round(sum by (phase) (increase(emco_migrate_migration_phase_entered_total[1h]))"
        " - sum by (phase) (increase(emco_migrate_migration_phase_left_total[1h])))"
    )
    return {s.labels["phase"]: s.value for s in samples}


def alert_state(prometheus: Prometheus, name: str) -> str | None:
    return next((r.get("state") for r in prometheus.rules() if r.get("name") == name), None)
