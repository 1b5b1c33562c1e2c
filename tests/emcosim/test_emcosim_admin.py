"""The admin API (faults, simulated clusters), state persistence and sharing, and the CLI."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from support.emulator import (
    Emulator,
    build_sample_setup,
    poll,
    start_emulator,
    wait_app_ready,
)

pytestmark = pytest.mark.integration


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
