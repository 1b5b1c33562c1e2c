"""CLM (providers, clusters, labels) and DCM (logical clouds) over HTTP (section 12)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from support.emulator import SampleSetup

pytestmark = pytest.mark.integration


def expect(response: httpx.Response, status: int, text: str | None = None) -> httpx.Response:
    assert response.status_code == status, (response.status_code, response.text)
    if text is not None:
        assert response.text == text + "\n"
    return response


@pytest.fixture
def provider(http: httpx.Client) -> str:
    name = f"cp-{uuid.uuid4().hex[:8]}"
    expect(http.post("/v2/cluster-providers", json={"metadata": {"name": name}}), 201)
    return name


def add_cluster(
    http: httpx.Client, provider: str, name: str, kubeconfig: bytes = b"kc"
) -> httpx.Response:
    files: dict[str, Any] = {
        "metadata": (None, json.dumps({"metadata": {"name": name}})),
        "file": ("f", kubeconfig),
    }
    return http.post(f"/v2/cluster-providers/{provider}/clusters", files=files)


def test_providers(http: httpx.Client, provider: str) -> None:
    expect(
        http.post("/v2/cluster-providers", json={"metadata": {"name": provider}}),
        409,
        "ClusterProvider already exists",
    )
    expect(http.get(f"/v2/cluster-providers/{provider}x"), 404, "Cluster provider not found")
    expect(
        http.put(
            f"/v2/cluster-providers/{provider}",
            json={"metadata": {"name": provider, "description": "d"}},
        ),
        201,
    )
    assert http.get(f"/v2/cluster-providers/{provider}").json()["metadata"]["description"] == "d"
    assert provider in [p["metadata"]["name"] for p in http.get("/v2/cluster-providers").json()]


def test_clusters_and_labels(http: httpx.Client, provider: str) -> None:
    created = expect(add_cluster(http, provider, "c1", b"kubeconfig-1"), 201)
    assert "content-type" not in created.headers
    expect(add_cluster(http, provider, "c1"), 409, "Cluster already exists")
    no_file = {"metadata": (None, json.dumps({"metadata": {"name": "c9"}}))}
    expect(
        http.post(f"/v2/cluster-providers/{provider}/clusters", files=no_file),
        422,
        "Unable to process file",
    )
    expect(add_cluster(http, provider, "c2"), 201)
    base = f"/v2/cluster-providers/{provider}/clusters"
    expect(http.put(f"{base}/c1", json={"metadata": {"name": "c1"}}), 405)
    expect(http.get(f"{base}/c1"), 300)
    expect(http.get(f"{base}/c1", headers={"accept": "application/octet-stream"}), 200)
    assert (
        http.get(f"{base}/c1", headers={"accept": "application/octet-stream"}).content
        == b"kubeconfig-1"
    )
    expect(http.get(f"{base}/c3", headers={"accept": "application/json"}), 404, "Cluster not found")

    assert expect(http.get(f"{base}/c1/labels"), 200).json() is None
    expect(http.post(f"{base}/c1/labels", json={"clusterLabel": "edge"}), 201)
    expect(http.post(f"{base}/c1/labels", json={"clusterLabel": "edge"}), 409)
    expect(http.post(f"{base}/c1/labels", json={"clusterLabel": "-bad"}), 400)
    expect(http.put(f"{base}/c2/labels/edge", json={"clusterLabel": "edge"}), 201)
    assert http.get(f"{base}/c1/labels").json() == [{"clusterLabel": "edge"}]
    assert http.get(base, params={"label": "edge"}).json() == ["c1", "c2"]
    assert http.get(base, params={"label": "none"}).content == b"[]\n"
    with_labels = http.get(base, params={"withLabels": "true"}).json()
    assert with_labels[0]["labels"] == [{"clusterLabel": "edge"}]
    expect(
        http.delete(f"{base}/c1"),
        409,
        "Cannot delete parent without deleting child references first",
    )
    expect(http.delete(f"{base}/c1/labels/edge"), 204)
    expect(http.delete(f"{base}/c1"), 204)
    expect(http.delete(f"/v2/cluster-providers/{provider}"), 409)


def test_logical_cloud_lifecycle(http: httpx.Client, sample_setup: SampleSetup) -> None:
    clouds = f"/v2/projects/{sample_setup.project}/logical-clouds"
    default = expect(http.get(f"{clouds}/default"), 200).json()
    assert default["spec"]["level"] == "0"
    expect(
        http.post(clouds, json={"metadata": {"name": "default"}}),
        409,
        "Logical Cloud already exists",
    )
    expect(
        http.post("/v2/projects/nope/logical-clouds", json={"metadata": {"name": "x"}}),
        404,
        "Project not found",
    )
    status = expect(http.get(f"{clouds}/default/status"), 200).json()
    assert status["status"] == "Instantiated"
    assert {c["cluster"]: c["readyStatus"] for c in status["clusters"]} == {
        "cluster1": "Available",
        "cluster2": "Available",
    }
    expect(
        http.post(f"{clouds}/default/instantiate"),
        409,
        "The Logical Cloud is already instantiated.",
    )
    expect(
        http.delete(f"{clouds}/default"),
        409,
        "The Logical Cloud is instantiated, please terminate first.",
    )
    expect(
        http.post(f"{clouds}/default/terminate"),
        409,
        "The Logical Cloud is in use by instantiated DIGs: dig1",
    )
    expect(http.post(f"{sample_setup.dig_path}/terminate"), 202)
    expect(http.post(f"{clouds}/default/terminate"), 202)
    expect(http.post(f"{clouds}/default/update"), 409)
    expect(http.post(f"{clouds}/default/stop"), 200)

    created = expect(
        http.post(clouds, json={"metadata": {"name": "custom"}, "spec": {"namespace": "ns"}}), 201
    )
    assert created.json()["spec"] == {
        "namespace": "ns",
        "level": "1",
        "user": {"userName": "", "type": ""},
    }
    expect(http.post(f"{clouds}/custom/instantiate"), 400)
    refs = f"{clouds}/custom/cluster-references"
    ref = {
        "metadata": {"name": "r1"},
        "spec": {"clusterProvider": "provider1", "cluster": "cluster1"},
    }
    expect(http.post(refs, json=ref), 201)
    expect(http.post(refs, json=ref), 409)
    assert [r["spec"]["cluster"] for r in http.get(refs).json()] == ["cluster1"]
    expect(http.delete(f"{clouds}/custom"), 409)
    expect(http.delete(f"{refs}/r1"), 204)
    expect(http.delete(f"{clouds}/custom"), 204)
    expect(http.get(f"{clouds}/custom"), 404, "Logical Cloud not found")
