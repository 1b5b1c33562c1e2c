"""Placement over HTTP (labels, anyOf, re-resolution on update) and migration between DIGs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from emco_migrate.emcosim.fixtures import sample_chart, sample_profile
from support.emulator import (
    Emulator,
    SampleSetup,
    build_sample_setup,
    wait_app_ready,
)
from support.waiting import poll

from .checks import expect, multipart
from .test_emcosim_lifecycle import new_dig, states, summary

pytestmark = pytest.mark.integration


def test_placement_by_labels_and_anyof(
    http: httpx.Client, emulator: Emulator, sample_setup: SampleSetup
) -> None:
    label = f"edge-{sample_setup.project[-6:]}"
    labels = "/v2/cluster-providers/provider2/clusters/cluster2/labels"
    expect(http.post(labels, json={"clusterLabel": label}), 201)
    try:
        placement = {
            "allOf": [{"clusterProvider": "provider1", "cluster": "cluster1"}],
            "anyOf": [{"clusterProvider": "provider2", "clusterLabel": label}],
        }
        spec = {"app": "collectd", "intent": placement}
        by_label: dict[str, Any] = {"metadata": {"name": sample_setup.app_intent}, "spec": spec}
        expect(http.put(sample_setup.app_intent_path, json=by_label), 200)
        expect(http.post(sample_setup.dig_path + "/update"), 202)
        wait_app_ready(http, sample_setup, "provider2", "cluster2")
        placed = {(p, c) for p, c, _ in emulator.resources(project=sample_setup.project)}
        assert placed == {("provider1", "cluster1"), ("provider2", "cluster2")}
    finally:
        expect(http.delete(f"{labels}/{label}"), 204)
    # Labels resolve at each update: without the label only cluster1 is left.
    by_label["spec"]["intent"]["anyOf"].append(
        {"clusterProvider": "provider1", "cluster": "cluster1"}
    )
    expect(http.put(sample_setup.app_intent_path, json=by_label), 200)
    expect(http.post(sample_setup.dig_path + "/update"), 202)
    poll(
        lambda: (
            {(p, c) for p, c, _ in emulator.resources(project=sample_setup.project)}
            == {("provider1", "cluster1")}
        ),
        what="cluster2 emptied",
    )


def test_migrate_moves_to_an_approved_dig_of_another_version(
    http: httpx.Client, emulator: Emulator
) -> None:
    setup = build_sample_setup(emulator.url)
    v2 = {"metadata": {"name": "capp1"}, "spec": {"compositeAppVersion": "v2"}}
    expect(http.post(f"/v2/projects/{setup.project}/composite-apps", json=v2), 201)
    base = f"/v2/projects/{setup.project}/composite-apps/capp1/v2"
    expect(
        http.post(
            base + "/apps", files=multipart({"metadata": {"name": "collectd"}}, sample_chart())
        ),
        201,
    )
    expect(
        http.post(base + "/composite-profiles", json={"metadata": {"name": "capp1-profile"}}), 201
    )
    expect(
        http.post(
            base + "/composite-profiles/capp1-profile/profiles",
            files=multipart(
                {"metadata": {"name": "p"}, "spec": {"app": "collectd"}}, sample_profile()
            ),
        ),
        201,
    )
    target = new_dig(http, setup, "dig2", version="v2")
    body = {"spec": {"targetCompositeAppVersion": "v2", "targetDeploymentIntentGroup": "dig2"}}
    expect(
        http.post(setup.dig_path + "/migrate", json=body),
        500,
        "Target DeploymentIntentGroup is not approved: dig2",
    )
    expect(http.post(target + "/approve"), 202)
    expect(http.post(setup.dig_path + "/migrate", json={"spec": {}}), 400)
    expect(http.post(setup.dig_path + "/migrate", json=body), 202)
    assert summary(states(http, setup))[-1] == ("Updated", 1)
    target_actions = expect(http.get(target + "/status"), 200).json()["states"]["actions"]
    assert summary(target_actions)[-1] == ("Instantiated", 1)
    poll(
        lambda: {r.version for _, _, r in emulator.resources(project=setup.project)} == {"v2"},
        what="v1 resources gone",
    )
