"""The admin API (faults, request log, simulated clusters), state files, and the CLI."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from emco_migrate.emcosim.app import create_app
from emco_migrate.emcosim.backend import Backend
from emco_migrate.emcosim.settings import EmulatorSettings
from support.emulator import (
    Emulator,
    SampleSetup,
    build_sample_setup,
    start_emulator,
    wait_app_ready,
)
from support.waiting import poll, wait_for

from .checks import unique

pytestmark = pytest.mark.integration

HOLD = 1.5
IMPATIENT = 0.5  # the client's timeout: shorter than the hold, as the worker's is


def deployed_revision(http: httpx.Client, setup: SampleSetup) -> int:
    """The DIG's revision as EMCO reports it (``states.actions[-1].revision``)."""
    body = http.get(f"{setup.dig_path}/status", params={"status": "deployed"}).json()
    revision: int = body["states"]["actions"][-1]["revision"]
    return revision


def exactly(path: str) -> str:
    return f"^{re.escape(path)}$"


def test_faults_hit_the_next_matching_requests(emulator_reset: Emulator) -> None:
    emulator = emulator_reset
    fault = emulator.add_fault(r"^/v2/projects$", 503, method="post", count=2)
    assert (fault.method, fault.remaining) == ("POST", 2)
    with emulator.client() as http:
        assert http.get("/v2/projects").status_code == 200  # other method
        body = {"metadata": {"name": "faulted"}}
        assert http.post("/v2/projects", json=body).status_code == 503
        assert [f.remaining for f in emulator.faults()] == [1]
        assert http.post("/v2/projects", json=body).status_code == 503
        assert emulator.faults() == []
        assert http.post("/v2/projects", json=body).status_code in (201, 409)


def test_fault_delay_and_clear(emulator_reset: Emulator) -> None:
    emulator = emulator_reset
    emulator.add_fault("/status$", 500, delay_seconds=0.3)
    emulator.add_fault("/never-matches$", 500)
    with emulator.client() as http:
        started = time.monotonic()
        response = http.get("/v2/projects/x/composite-apps/a/v1/deployment-intent-groups/d/status")
        assert response.status_code == 500
        assert time.monotonic() - started >= 0.3
        assert len(emulator.faults()) == 1
        emulator.clear_faults()
        assert emulator.faults() == []
        assert http.get("/emulator/v1/healthz").json()["status"] == "ok"


def test_held_update_is_applied_after_the_client_gave_up(
    emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    emulator, setup = emulator_reset, sample_setup
    update = f"{setup.dig_path}/update"
    fault = emulator.add_fault(exactly(update), method="POST", hold_seconds=HOLD)
    assert (fault.status, fault.hold_seconds, fault.remaining) == (None, HOLD, 1)
    with emulator.client() as http:
        before = deployed_revision(http, setup)
        started = time.monotonic()
        with (
            httpx.Client(base_url=emulator.url, timeout=IMPATIENT) as impatient,
            pytest.raises(httpx.TimeoutException),
        ):
            impatient.post(update)
        assert deployed_revision(http, setup) == before  # held: not applied yet
        poll(
            lambda: deployed_revision(http, setup) == before + 1,
            timeout=HOLD + 10,
            what="the held update applied",
        )
        assert time.monotonic() - started >= HOLD
    [entry] = emulator.requests(method="POST", path_regex=exactly(update))
    assert (entry["status"], entry["faultId"]) == (202, fault.id)
    assert entry["appliedAt"] - entry["arrivedAt"] == pytest.approx(HOLD, abs=0.5)
    assert emulator.faults() == []


def test_held_request_answers_a_waiting_client_after_the_hold(
    emulator_reset: Emulator, sample_setup: SampleSetup
) -> None:
    emulator, setup = emulator_reset, sample_setup
    update = f"{setup.dig_path}/update"
    emulator.add_fault(exactly(update), method="post", hold_seconds=1.0)
    with emulator.client() as http:
        before = deployed_revision(http, setup)
        started = time.monotonic()
        response = http.post(update)
        assert time.monotonic() - started >= 1.0
        assert (response.status_code, response.json()) == (202, before + 1)
        assert deployed_revision(http, setup) == before + 1
        assert http.post(update).json() == before + 2  # the fault held one request only


def test_held_request_keeps_its_body(emulator_reset: Emulator) -> None:
    emulator = emulator_reset
    project = unique("held")
    emulator.add_fault("^/v2/projects$", method="POST", hold_seconds=0.2)
    with emulator.client() as http:
        created = http.post("/v2/projects", json={"metadata": {"name": project}})
        assert created.status_code == 201
        assert created.json()["metadata"]["name"] == project
        assert http.get(f"/v2/projects/{project}").status_code == 200


def test_rate_fault_hits_about_that_share_repeatably(emulator_reset: Emulator) -> None:
    emulator = emulator_reset
    path = f"/v2/projects/{unique('rate')}"

    def hit_pattern() -> list[bool]:
        fault = emulator.add_fault(exactly(path), 503, method="GET", rate=0.25, seed=7)
        assert (fault.remaining, fault.rate, fault.seed) == (None, 0.25, 7)  # unlimited
        with emulator.client() as http:
            hits = [http.get(path).status_code == 503 for _ in range(200)]
        [listed] = emulator.faults()
        assert (listed.hits, listed.remaining) == (sum(hits), None)
        emulator.clear_faults()
        return hits

    first = hit_pattern()
    assert 25 <= sum(first) <= 75  # 50 expected
    assert hit_pattern() == first  # the same seed makes the same choices


def test_count_caps_the_hits_of_a_rate_fault(emulator_reset: Emulator) -> None:
    emulator = emulator_reset
    path = f"/v2/projects/{unique('capped')}"
    fault = emulator.add_fault(exactly(path), 503, method="GET", rate=0.5, seed=1, count=5)
    assert fault.remaining == 5
    with emulator.client() as http:
        statuses = [http.get(path).status_code for _ in range(60)]
    assert statuses.count(503) == 5
    assert set(statuses) == {404, 503}
    assert emulator.faults() == []


def test_request_log_records_writes_and_filters(emulator_reset: Emulator) -> None:
    emulator = emulator_reset
    emulator.clear_requests()
    project = unique("log")
    fault = emulator.add_fault(exactly(f"/v2/projects/{project}"), 503, method="DELETE")
    with emulator.client() as http:
        assert http.post("/v2/projects", json={"metadata": {"name": project}}).status_code == 201
        assert http.get(f"/v2/projects/{project}").status_code == 200  # reads are not logged
        assert http.delete(f"/v2/projects/{project}").status_code == 503
        assert http.delete(f"/v2/projects/{project}").status_code == 204
    log = emulator.requests()
    assert [(e["method"], e["path"], e["status"], e["faultId"]) for e in log] == [
        ("POST", "/v2/projects", 201, None),
        ("DELETE", f"/v2/projects/{project}", 503, fault.id),
        ("DELETE", f"/v2/projects/{project}", 204, None),
    ]
    assert [e["id"] for e in log] == sorted(e["id"] for e in log)
    assert log[1]["appliedAt"] is None  # the fault answered; EMCO never saw it
    assert all(e["arrivedAt"] <= e["appliedAt"] for e in (log[0], log[2]))
    assert emulator.requests(method="delete") == log[1:]
    assert emulator.requests(path_regex=f"/{project}$") == log[1:]
    assert emulator.requests(method="POST", path_regex=project) == []
    emulator.clear_requests()
    assert emulator.requests() == []


@pytest.mark.parametrize(
    ("query", "field"),
    [({"pathRegex": "("}, "pathRegex"), ({"method": "1"}, "method"), ({"path": "x"}, "path")],
)
def test_request_log_query_errors_name_the_field(
    http: httpx.Client, query: dict[str, str], field: str
) -> None:
    response = http.get("/emulator/v1/requests", params=query)
    assert response.status_code == 422
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/clusters/p/c", {"reachable": "yes"}, "reachable"),
        ("/clusters/p/c", {"readyDelaySeconds": -1}, "readyDelaySeconds"),
        ("/clusters/p/c", {"neverready": True}, "neverready"),
        ("/faults", {"status": 503}, "pathRegex"),
        ("/faults", {"pathRegex": "(", "status": 503}, "pathRegex"),
        ("/faults", {"pathRegex": "x", "status": 42}, "status"),
        ("/faults", {"pathRegex": "x", "status": 503, "count": 0}, "count"),
        ("/faults", {"pathRegex": "x" * 501, "status": 503}, "pathRegex"),
        ("/faults", {"pathRegex": "x"}, "status"),
        ("/faults", {"pathRegex": "x", "status": 503, "rate": 0}, "rate"),
        ("/faults", {"pathRegex": "x", "status": 503, "rate": 1.5}, "rate"),
        ("/faults", {"pathRegex": "x", "status": 503, "rate": "0.5"}, "rate"),
        ("/faults", {"pathRegex": "x", "status": 503, "seed": 0.5}, "seed"),
        ("/faults", {"pathRegex": "x", "holdSeconds": 1, "status": 503}, "status"),
        ("/faults", {"pathRegex": "x", "holdSeconds": 1, "delaySeconds": 1}, "delaySeconds"),
        ("/faults", {"pathRegex": "x", "holdSeconds": 0}, "holdSeconds"),
        ("/faults", {"pathRegex": "x", "holdSeconds": 3601}, "holdSeconds"),
        ("/faults", {"pathRegex": "x", "holdSeconds": 1, "hold": 1}, "hold"),
    ],
)
def test_admin_input_errors_name_the_field(
    http: httpx.Client, path: str, body: dict[str, object], field: str
) -> None:
    response = http.request(
        "PUT" if path.startswith("/clusters") else "POST", f"/emulator/v1{path}", json=body
    )
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_unreachable_cluster_over_http(emulator_reset: Emulator) -> None:
    emulator = emulator_reset
    emulator.set_cluster("provider1", "cluster1", reachable=False)
    setup = build_sample_setup(emulator.url, wait_ready=False)
    with emulator.client() as http:
        body = http.get(f"{setup.dig_path}/status", params={"status": "ready"}).json()
        assert body["deployedStatus"] == "Instantiating"
        assert body["apps"][0]["clusters"][0]["connectivity"] == "Retrying"
        assert emulator.cluster("provider1", "cluster1").connectivity == "Retrying"
        emulator.set_cluster("provider1", "cluster1", reachable=True)
        wait_app_ready(http, setup, "provider1", "cluster1")
    states = {r.state for _, _, r in emulator.resources(project=setup.project)}
    assert states == {"Ready"}


async def test_shutdown_drops_requests_still_held(tmp_path: Path) -> None:
    app = create_app(EmulatorSettings(db=str(tmp_path / "state.db")))
    be: Backend = app.state.backend
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emco") as client:
        async with app.router.lifespan_context(app):
            hold = {"pathRegex": "^/v2/projects$", "method": "POST", "holdSeconds": 60}
            assert (await client.post("/emulator/v1/faults", json=hold)).status_code == 201
            body = {"metadata": {"name": "late"}}
            waiting = asyncio.create_task(client.post("/v2/projects", json=body))

            async def held() -> bool:
                return len(be.held) == 1

            await wait_for(held, what="the request held")
        assert be.held == set()  # the lifespan's shutdown cancelled the delivery
        answer = await waiting
        assert answer.status_code == 503
        assert answer.text == "emulator stopped before applying the held request\n"
        log = (await client.get("/emulator/v1/requests")).json()
        assert [(e["path"], e["appliedAt"]) for e in log] == [("/v2/projects", None)]
        assert (await client.get("/v2/projects/late")).status_code == 404


def test_opens_a_state_file_of_the_previous_version(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with closing(sqlite3.connect(db)) as old:
        old.executescript(
            """
            CREATE TABLE faults (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                method TEXT,
                path_regex TEXT NOT NULL,
                status INTEGER NOT NULL,
                remaining INTEGER NOT NULL,
                delay REAL NOT NULL
            );
            INSERT INTO faults (method, path_regex, status, remaining, delay)
                VALUES ('PUT', '/x$', 503, 2, 0.5), ('GET', '/y$', 500, 1, 0);
            DELETE FROM faults WHERE path_regex = '/y$';
            """
        )
    with start_emulator(db) as emulator:
        [kept] = emulator.faults()
        assert (kept.id, kept.method, kept.status, kept.remaining, kept.delay_seconds) == (
            1, "PUT", 503, 2, 0.5,
        )  # fmt: skip
        assert (kept.hold_seconds, kept.rate, kept.seed, kept.hits) == (None, 1.0, None, 0)
        held = emulator.add_fault("/z$", hold_seconds=5, rate=0.5)
        assert (held.id, held.status, held.remaining) == (3, None, None)  # ids never reused
        assert emulator.requests() == []
    with start_emulator(db) as again:
        assert [f.id for f in again.faults()] == [1, 3]


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    with start_emulator(db) as first:
        setup = build_sample_setup(first.url)
        with first.client() as http:
            before = http.get(f"{setup.dig_path}/status").json()
    with start_emulator(db) as second, second.client() as http:
        after = http.get(f"{setup.dig_path}/status").json()
        assert after["states"] == before["states"]
        assert after["status"] == "Instantiated"
        assert http.get(f"/v2/projects/{setup.project}").status_code == 200


def test_processes_share_one_state_file(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    with start_emulator(db) as orchestrator, start_emulator(db) as clm:
        setup = build_sample_setup(orchestrator.url, wait_ready=False)
        with clm.client() as http:
            assert http.get(f"/v2/projects/{setup.project}").status_code == 200
            assert http.post(f"{setup.dig_path}/terminate").status_code == 202
        with orchestrator.client() as http:
            poll(
                lambda: http.get(f"{setup.dig_path}/status").json()["status"] == "Terminated",
                what="termination seen by the other process",
            )


def test_memory_database_and_cli_errors(tmp_path: Path) -> None:
    with start_emulator(Path(":memory:"), log_path=tmp_path / "mem.log") as memory:
        assert httpx.get(f"{memory.url}/emulator/v1/healthz").json()["db"] == ":memory:"
    result = subprocess.run(
        [sys.executable, "-m", "emco_migrate", "emco-sim", "--ready-delay", "-1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "emco-migrate emco-sim: error: --ready-delay must not be negative"
    )
