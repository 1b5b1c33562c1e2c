"""Orchestrator over HTTP: DIGs, ``/intents``, placement intents, app intents (sections 5-8)."""

from __future__ import annotations

import httpx
import pytest

from support.emulator import SampleSetup

from .checks import dig_body, expect, unique

pytestmark = pytest.mark.integration


@pytest.fixture
def capp(http: httpx.Client) -> str:
    project = unique("p")
    expect(http.post("/v2/projects", json={"metadata": {"name": project}}), 201)
    body = {"metadata": {"name": "capp"}, "spec": {"compositeAppVersion": "v1"}}
    expect(http.post(f"/v2/projects/{project}/composite-apps", json=body), 201)
    return f"/v2/projects/{project}/composite-apps/capp/v1"


# ---------------------------------------------------------------------------------- DIGs


def test_dig_codes_and_name_from_body(http: httpx.Client, capp: str) -> None:
    digs = capp + "/deployment-intent-groups"
    expect(http.post(digs, json=dig_body("d1")), 201)
    expect(http.post(digs, json=dig_body("d1")), 409, "Intent already exists")
    missing = {
        "metadata": {"name": "d2"},
        "spec": {"compositeProfile": "p", "version": "r", "logicalCloud": "lc"},
    }
    expect(
        http.post(digs, json=missing),
        400,
        "Invalid Input:\nInvalid type. Expected: array, given: null",
    )
    expect(http.post(digs, json=dig_body("d2", version=7)), 422)
    # PUT: the body name is the key; 201 new, 200 replaced while Created.
    expect(http.put(digs + "/ignored", json=dig_body("d3")), 201)
    expect(http.get(digs + "/ignored"), 404, "DeploymentIntentGroup not found")
    expect(http.put(digs + "/d3", json=dig_body("d3", version="r2")), 200)
    assert http.get(digs + "/d3").json()["spec"]["version"] == "r2"
    assert set(http.get(digs + "/d3").json()) == {"metadata", "spec"}  # no state here
    expect(http.post(digs + "/d3/approve"), 202)
    expect(
        http.put(digs + "/d3", json=dig_body("d3")),
        409,
        "The specified DeploymentIntentGroup is not in Created status",
    )


def test_dig_echo_has_every_field_and_case_insensitive_keys(http: httpx.Client, capp: str) -> None:
    body = {
        "METADATA": {"NAME": "ci"},
        "Spec": {
            "COMPOSITEPROFILE": "p",
            "version": "r",
            "logicalcloud": "lc",
            "overridevalues": [{"APP": "x", "values": {"k": "v"}}],
            "unknown": 1,
        },
    }
    echoed = expect(http.post(capp + "/deployment-intent-groups", json=body), 201).json()
    assert echoed == {
        "metadata": {"name": "ci", "description": "", "userData1": "", "userData2": ""},
        "spec": {
            "compositeProfile": "p",
            "version": "r",
            "logicalCloud": "lc",
            "overrideValues": [{"app": "x", "values": {"k": "v"}}],
        },
    }


def test_group_intents(http: httpx.Client, capp: str) -> None:
    digs = capp + "/deployment-intent-groups"
    expect(http.post(digs, json=dig_body("gi")), 201)
    intents = digs + "/gi/intents"
    assert expect(http.get(intents), 200).json() == {"intent": None}
    body = {"metadata": {"name": "i1"}, "spec": {"intent": {"genericPlacementIntent": "gpi"}}}
    expect(http.post(intents, json=body), 201)
    expect(http.post(intents, json=body), 409, "Intent already exists")
    expect(
        http.post(intents, json={"metadata": {"name": "i2"}}),
        400,
        "Invalid Input:\nInvalid type. Expected: object, given: null",
    )
    assert http.get(intents).json() == {"intent": [{"genericPlacementIntent": "gpi"}]}
    assert expect(http.get(intents + "/", params={"intent": "i1"}), 200).json() == {
        "intent": {"genericPlacementIntent": "gpi"}
    }
    expect(http.get(intents + "/"), 404, "404 page not found")
    expect(http.get(intents + "/nope"), 404, "Intent not found")
    expect(http.put(intents + "/whatever", json=body), 200)
    expect(http.delete(intents + "/i1"), 204)
    expect(http.delete(intents + "/i1"), 404, "The requested resource not found")


def test_placement_intents(http: httpx.Client, capp: str) -> None:
    digs = capp + "/deployment-intent-groups"
    expect(http.post(digs, json=dig_body("pi")), 201)
    gpis = digs + "/pi/generic-placement-intents"
    created = expect(
        http.post(gpis, json={"metadata": {"name": "g"}, "spec": {"logicalCloud": "lc"}}), 201
    )
    assert "spec" not in created.json()
    expect(http.post(gpis, json={"metadata": {"name": "g"}}), 409, "Intent already exists")
    expect(http.get(gpis + "/nope"), 404, "Intent not found")
    expect(http.put(gpis + "/g", json={"metadata": {"name": "g", "description": "d"}}), 200)
    ais = gpis + "/g/app-intents"
    placement = {
        "metadata": {"name": "ai"},
        "spec": {"app": "a", "intent": {"allOf": [{"clusterProvider": "p", "cluster": "c"}]}},
    }
    expect(http.post(ais, json=placement), 201)
    expect(http.post(ais, json=placement), 409, "Intent already exists")
    expect(http.put(ais + "/ignored", json=placement), 200)
    renamed = {**placement, "metadata": {"name": "ai2"}}
    expect(http.put(ais + "/ai", json=renamed), 201)
    expect(http.get(ais + "/nope"), 404, "Intent not found")
    expect(
        http.post(gpis + "/missing/app-intents", json=placement),
        409,
        "Cannot perform requested operation. Parent resource not found",
    )
    bad = {
        "metadata": {"name": "x"},
        "spec": {"app": "a", "intent": {"allOf": [{"clusterProvider": "p"}]}},
    }
    expect(http.post(ais, json=bad), 400, "Missing cluster or clusterLabel")
    expect(
        http.delete(gpis + "/g"),
        409,
        "Cannot delete parent without deleting child references first",
    )


def test_app_intents_query_needs_app_name(http: httpx.Client, sample_setup: SampleSetup) -> None:
    ais = f"{sample_setup.dig_path}/generic-placement-intents/{sample_setup.gpi}/app-intents"
    expect(http.get(ais + "/", params={"app": "collectd"}), 400, "Missing appName in GET request")
    found = expect(
        http.get(ais + "/", params={"app": "collectd", "app-name": "collectd"}), 200
    ).json()
    assert found == {
        "app": "collectd",
        "intent": {"allOf": [{"clusterProvider": "provider1", "cluster": "cluster1"}]},
    }
    assert http.get(ais + "/", params={"app": "x", "app-name": "other"}).json() == {"intent": {}}
    assert (
        expect(http.post(ais + "/", params={"app": "x", "app-name": "collectd"}), 200).json()["app"]
        == "collectd"
    )
    listed = expect(http.get(ais, params={"app": "collectd"}), 200).json()
    assert [a["metadata"]["name"] for a in listed] == ["collectd-placement-intent"]
    expect(http.get(ais + "/"), 404, "404 page not found")
