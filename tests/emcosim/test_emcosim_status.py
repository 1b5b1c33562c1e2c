"""DIG status over HTTP: modes, filters, list answers, 400s and the migration polling recipe."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from support.emulator import SampleSetup
from support.waiting import poll

pytestmark = pytest.mark.integration

IDENTITY = {"project", "compositeApp", "compositeAppVersion", "compositeProfile", "name"}


def get(http: httpx.Client, setup: SampleSetup, query: str = "") -> dict[str, Any]:
    response = http.get(f"{setup.dig_path}/status" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error(http: httpx.Client, setup: SampleSetup, query: str) -> str:
    response = http.get(f"{setup.dig_path}/status?{query}")
    assert response.status_code == 400
    return response.text


def test_default_mode_is_rsync_with_connectivity_under_ready_status(
    http: httpx.Client, sample_setup: SampleSetup
) -> None:
    body = get(http, sample_setup)
    assert set(body) == IDENTITY | {"states", "status", "rsyncStatus", "apps"}
    assert body["status"] == "Instantiated"
    assert body["rsyncStatus"] == {"Applied": 2}
    cluster = body["apps"][0]["clusters"][0]
    assert cluster["readyStatus"] == "Available"
    assert cluster["resources"][0] == {
        "GVK": {"Group": "apps", "Version": "v1", "Kind": "Deployment"},
        "name": "collectd",
        "rsyncStatus": "Applied",
    }


def test_each_mode_has_its_keys(http: httpx.Client, sample_setup: SampleSetup) -> None:
    cluster = get(http, sample_setup, "type=cluster")
    assert {"status", "readyStatus", "rsyncStatus", "clusterStatus"} <= set(cluster)
    assert set(cluster["apps"][0]["clusters"][0]["resources"][0]) == {
        "GVK", "name", "rsyncStatus", "clusterStatus",
    }  # fmt: skip
    deployed = get(http, sample_setup, "status=deployed&type=cluster")
    assert set(deployed) == IDENTITY | {"states", "deployedStatus", "deployedCounts", "apps"}
    assert deployed["apps"][0]["clusters"][0]["connectivity"] == "Available"
    ready = get(http, sample_setup, "status=ready")
    assert set(ready) == IDENTITY | {
        "states", "deployedStatus", "readyStatus", "deployedCounts", "readyCounts", "apps",
    }  # fmt: skip
    assert ready["readyCounts"] == {"Ready": 2}
    assert set(ready["apps"][0]["clusters"][0]["resources"][0]) == {
        "GVK", "name", "deployedStatus", "readyStatus",
    }  # fmt: skip
    assert "apps" not in get(http, sample_setup, "output=summary")
    detail = get(http, sample_setup, "output=detail")["apps"][0]["clusters"][0]["resources"][0]
    assert detail["detail"]["kind"] == "Deployment"


def test_filters(http: httpx.Client, sample_setup: SampleSetup) -> None:
    only_service = get(http, sample_setup, "status=ready&resource=collectd-svc")
    assert [r["name"] for r in only_service["apps"][0]["clusters"][0]["resources"]] == [
        "collectd-svc"
    ]
    assert only_service["readyCounts"] == {"Ready": 1}
    # Filters that match nothing: vacuously Ready, no apps at all.
    nothing = get(http, sample_setup, "status=ready&cluster=provider2%2Bcluster2")
    assert nothing["readyStatus"] == "Ready"
    assert "apps" not in nothing and "readyCounts" not in nothing


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("status=bogus", "Invalid query status"),
        ("type=bogus", "Invalid query type"),
        ("output=bogus", "Invalid query output"),
        ("instance=", "Invalid query instance"),
        ("instance=42", "No state information for 42"),
        ("app=-x", "Invalid app query"),
        ("app=other", "Filter app other not in list of apps for composite app capp1"),
        ("cluster=provider1+cluster1", "Invalid cluster query"),
        ("resource=-r", "Invalid resources query"),
    ],
)
def test_status_400s(http: httpx.Client, sample_setup: SampleSetup, query: str, text: str) -> None:
    assert error(http, sample_setup, query) == text + "\n"


def test_missing_dig_is_a_400(http: httpx.Client, sample_setup: SampleSetup) -> None:
    response = http.get(sample_setup.dig_path.rsplit("/", 1)[0] + "/nope/status")
    assert (response.status_code, response.text) == (
        400,
        "DeploymentIntentGroup not found: DeploymentIntentGroup not found\n",
    )


def test_list_modes(http: httpx.Client, sample_setup: SampleSetup) -> None:
    apps = get(http, sample_setup, "apps&clusters")
    assert apps == {
        "project": sample_setup.project,
        "compositeApp": "capp1",
        "compositeAppVersion": "v1",
        "compositeProfile": "capp1-profile",
        "name": "dig1",
        "apps": ["collectd"],
    }
    clusters = get(http, sample_setup, "clusters&app=collectd")["clustersByApp"]
    assert clusters == [
        {"app": "collectd", "clusters": [{"clusterProvider": "provider1", "cluster": "cluster1"}]}
    ]
    listed = get(http, sample_setup, "resources&cluster=provider1%2Bcluster1&status=ready")
    assert listed["resourcesByApp"] == [
        {
            "app": "collectd",
            "clusterProvider": "provider1",
            "cluster": "cluster1",
            "resources": [
                {
                    "name": "collectd",
                    "GVK": {"Group": "apps", "Version": "v1", "Kind": "Deployment"},
                },
                {"name": "collectd-svc", "GVK": {"Group": "", "Version": "v1", "Kind": "Service"}},
            ],
        }
    ]


def test_polling_recipe_verifies_a_migration(http: httpx.Client, sample_setup: SampleSetup) -> None:
    """The recipe of contract section 11, as a migration workflow would run it."""
    setup = sample_setup
    body = setup.app_intent_body(*setup.target)
    assert http.put(setup.app_intent_path, json=body).status_code == 200
    response = http.post(f"{setup.dig_path}/update")
    assert response.status_code == 202
    revision = response.json()
    assert revision == 2

    # Right after the update the source is gone from the default output.
    now = get(http, setup)
    assert {c["cluster"] for a in now.get("apps", []) for c in a["clusters"]} == {"cluster2"}

    def deployed() -> dict[str, Any] | None:
        body = get(http, setup, "status=deployed&app=collectd")
        failed = [
            r
            for a in body.get("apps", [])
            for c in a["clusters"]
            for r in c["resources"]
            if r["deployedStatus"] == "Failed"
        ]
        assert not failed and body["deployedStatus"] != "InstantiateFailed"
        return body if body["deployedStatus"] == "Instantiated" else None

    poll(deployed, what="new context Instantiated")

    def ready() -> dict[str, Any] | None:
        body = get(http, setup, "status=ready&app=collectd&cluster=provider2%2Bcluster2")
        clusters = [c for a in body.get("apps", []) for c in a["clusters"]]
        ok = (
            body["readyStatus"] == "Ready"
            and clusters
            and clusters[0]["cluster"] == "cluster2"
            and clusters[0]["resources"]
            and clusters[0]["connectivity"] == "Available"
        )
        return body if ok else None

    target = poll(ready, what="app Ready on the target")
    updated = [a for a in target["states"]["actions"] if a["state"] == "Updated"][-1]["instance"]
    old = get(http, setup, f"status=deployed&instance={updated}")
    assert {c["cluster"] for a in old.get("apps", []) for c in a["clusters"]} == {"cluster1"}
    poll(
        lambda: (
            get(http, setup, f"status=deployed&instance={updated}")["deployedStatus"] == "Updated"
        ),
        what="old context Updated",
    )
