"""Simulated rollout over (fake) time: apply, readiness, update, unreachable clusters, stop."""

from __future__ import annotations

from typing import Any

import httpx

from support.emulator import SampleSetup

from .conftest import Sim


def status(client: httpx.Client, setup: SampleSetup, **params: str) -> dict[str, Any]:
    response = client.get(f"{setup.dig_path}/status", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def resources(body: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(cluster, kind, name) -> resource entry of a status answer."""
    return {
        (c["cluster"], r["GVK"]["Kind"], r["name"]): r
        for a in body.get("apps", [])
        for c in a["clusters"]
        for r in c["resources"]
    }


def admin_put(sim: Sim, cluster: str, body: dict[str, Any]) -> None:
    provider = {"cluster1": "provider1", "cluster2": "provider2"}[cluster]
    response = sim.client.put(f"/emulator/v1/clusters/{provider}/{cluster}", json=body)
    assert response.status_code == 200, response.text


def test_resources_go_pending_applied_ready_on_the_clock(sim: Sim) -> None:
    setup = sim.setup()
    first = status(sim.client, setup, status="ready")
    assert first["deployedStatus"] == "Instantiating"
    assert first["readyStatus"] == "NotReady"
    assert first["deployedCounts"] == {"Pending": 2}
    assert first["readyCounts"] == {"NotPresent": 2}

    sim.clock.advance(1.0)  # half the ready delay: rsync has applied
    applied = status(sim.client, setup, status="ready")
    assert applied["deployedStatus"] == "Instantiated"
    assert applied["readyCounts"] == {"NotReady": 2}

    sim.clock.advance(1.0)
    ready = status(sim.client, setup, status="ready")
    assert ready["readyStatus"] == "Ready"
    assert {r["readyStatus"] for r in resources(ready).values()} == {"Ready"}
    assert set(resources(ready)) == {
        ("cluster1", "Deployment", "collectd"),
        ("cluster1", "Service", "collectd-svc"),
    }


def test_update_moves_the_app_and_the_old_context_goes_updating_then_updated(sim: Sim) -> None:
    setup = sim.setup()
    sim.clock.advance(2.0)
    sim.client.put(setup.app_intent_path, json=setup.app_intent_body("provider2", "cluster2"))
    response = sim.client.post(f"{setup.dig_path}/update")
    assert (response.status_code, response.content) == (202, b"2\n")

    after = status(sim.client, setup, status="deployed")
    assert after["deployedStatus"] == "Instantiating"
    assert {k[0] for k in resources(after)} == {"cluster2"}  # the source vanished at once
    actions = after["states"]["actions"]
    updated = [a for a in actions if a["state"] == "Updated"][-1]
    assert (updated["revision"], actions[-1]["revision"]) == (1, 2)

    old = status(sim.client, setup, status="deployed", instance=updated["instance"])
    assert old["deployedStatus"] == "Updating"
    assert {k[0] for k in resources(old)} == {"cluster1"}

    sim.clock.advance(1.0)
    assert (
        status(sim.client, setup, status="deployed", instance=updated["instance"])["deployedStatus"]
        == "Updated"
    )
    target = status(sim.client, setup, status="ready", cluster="provider2+cluster2")
    assert (target["deployedStatus"], target["readyStatus"]) == ("Instantiated", "NotReady")
    sim.clock.advance(1.0)
    assert status(sim.client, setup, status="ready")["readyStatus"] == "Ready"
    clusters = {c["cluster"]: c for c in sim.client.get("/emulator/v1/clusters").json()}
    assert [r["context"] for r in clusters["cluster1"]["resources"]] == []
    assert {r["state"] for r in clusters["cluster2"]["resources"]} == {"Ready"}


def test_unchanged_resources_are_handed_over_on_update(sim: Sim) -> None:
    setup = sim.setup()
    sim.clock.advance(2.0)
    both = {
        "metadata": {"name": setup.app_intent},
        "spec": {
            "app": setup.app,
            "intent": {
                "allOf": [
                    {"clusterProvider": "provider1", "cluster": "cluster1"},
                    {"clusterProvider": "provider2", "cluster": "cluster2"},
                ]
            },
        },
    }
    assert sim.client.put(setup.app_intent_path, json=both).status_code == 200
    assert sim.client.post(f"{setup.dig_path}/update").status_code == 202
    body = status(sim.client, setup, status="ready")
    states = {k: v["readyStatus"] for k, v in resources(body).items()}
    assert states[("cluster1", "Deployment", "collectd")] == "Ready"
    assert states[("cluster2", "Deployment", "collectd")] == "NotPresent"
    old = [a for a in body["states"]["actions"] if a["state"] == "Updated"][-1]["instance"]
    assert status(sim.client, setup, instance=old)["status"] == "Updated"  # nothing to delete


def test_unreachable_cluster_makes_no_progress_until_it_is_back(sim: Sim) -> None:
    admin_put(sim, "cluster1", {"reachable": False})
    setup = sim.setup()
    sim.clock.advance(10.0)
    body = status(sim.client, setup)
    assert body["status"] == "Instantiating"
    cluster = body["apps"][0]["clusters"][0]
    assert cluster["readyStatus"] == "Retrying"  # type=rsync: connectivity under readyStatus
    assert {r["rsyncStatus"] for r in cluster["resources"]} == {"Retrying"}

    admin_put(sim, "cluster1", {"reachable": True})
    sim.clock.advance(1.0)
    again = status(sim.client, setup, type="cluster")
    assert again["status"] == "Instantiated"
    assert again["clusterStatus"] == {"NotReady": 2}
    assert again["apps"][0]["clusters"][0]["readyStatus"] == "Available"
    sim.clock.advance(1.0)
    assert status(sim.client, setup, type="cluster")["readyStatus"] == "Ready"


def test_ready_delay_override_and_never_ready(sim: Sim) -> None:
    admin_put(sim, "cluster1", {"readyDelaySeconds": 10})
    setup = sim.setup()
    sim.clock.advance(5.0)
    assert status(sim.client, setup, status="ready")["readyCounts"] == {"NotReady": 2}
    sim.clock.advance(5.0)
    assert status(sim.client, setup, status="ready")["readyStatus"] == "Ready"
    admin_put(sim, "cluster1", {"neverReady": True})
    assert status(sim.client, setup, status="ready")["readyStatus"] == "NotReady"
    admin_put(sim, "cluster1", {"neverReady": False, "readyDelaySeconds": None})
    cluster = sim.client.get("/emulator/v1/clusters").json()[0]
    assert (cluster["readyDelaySeconds"], cluster["neverReady"]) == (2.0, False)


def test_terminate_deletes_after_the_delay(sim: Sim) -> None:
    setup = sim.setup()
    sim.clock.advance(2.0)
    assert sim.client.post(f"{setup.dig_path}/terminate").status_code == 202
    body = status(sim.client, setup)
    assert body["status"] == "Terminating"
    assert body["states"]["actions"][-1]["state"] == "Terminated"
    sim.clock.advance(1.0)
    done = status(sim.client, setup)
    assert done["status"] == "Terminated"
    assert done["rsyncStatus"] == {"Deleted": 2}
    assert sim.client.get("/emulator/v1/clusters").json()[0]["resources"] == []


def test_stop_freezes_an_instantiation_in_progress(sim: Sim) -> None:
    admin_put(sim, "cluster1", {"reachable": False})
    setup = sim.setup()
    assert sim.client.post(f"{setup.dig_path}/stop").status_code == 202
    admin_put(sim, "cluster1", {"reachable": True})
    sim.clock.advance(5.0)
    body = status(sim.client, setup)
    assert body["states"]["actions"][-1]["state"] == "InstantiateStopped"
    assert body["rsyncStatus"] == {"Pending": 2}
    again = sim.client.post(f"{setup.dig_path}/stop")
    assert (again.status_code, again.text) == (
        500,
        "DeploymentIntentGroup instantiation already stopped: dig1\n",
    )
    assert sim.client.post(f"{setup.dig_path}/terminate").status_code == 202
    sim.clock.advance(1.0)
    assert status(sim.client, setup)["status"] == "Terminated"


def test_stop_needs_work_in_progress(sim: Sim) -> None:
    setup = sim.setup()
    sim.clock.advance(2.0)
    response = sim.client.post(f"{setup.dig_path}/stop")
    assert (response.status_code, response.text) == (
        500,
        "DeploymentIntentGroup is not instantiating or terminating:dig1\n",
    )


def test_instantiate_needs_the_rsync_controller(sim: Sim) -> None:
    setup = sim.setup()
    sim.clock.advance(2.0)
    assert sim.client.post(f"{setup.dig_path}/terminate").status_code == 202
    assert sim.client.delete("/v2/controllers/rsync").status_code == 204
    response = sim.client.post(f"{setup.dig_path}/instantiate")
    assert (response.status_code, response.text) == (404, "Controller not found\n")
