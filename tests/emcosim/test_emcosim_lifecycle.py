"""DIG lifecycle over HTTP: state machine, action log, revisions, logical-cloud checks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from support.emulator import SampleSetup, wait_app_ready
from support.waiting import poll

from .checks import expect

pytestmark = pytest.mark.integration


def states(http: httpx.Client, setup: SampleSetup, dig: str | None = None) -> list[dict[str, Any]]:
    path = setup.dig_path if dig is None else setup.dig_path.rsplit("/", 1)[0] + "/" + dig
    actions: list[dict[str, Any]] = expect(http.get(path + "/status"), 200).json()["states"][
        "actions"
    ]
    return actions


def summary(actions: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(a["state"], a["revision"]) for a in actions]


def new_dig(
    http: httpx.Client,
    setup: SampleSetup,
    name: str,
    *,
    cloud: str = "default",
    version: str = "v1",
) -> str:
    """A second DIG of the sample composite app placing collectd on cluster1."""
    base = setup.composite_app_path.rsplit("/", 1)[0] + f"/{version}/deployment-intent-groups"
    spec = {
        "compositeProfile": "capp1-profile",
        "version": "r1",
        "logicalCloud": cloud,
        "overrideValues": [],
    }
    expect(http.post(base, json={"metadata": {"name": name}, "spec": spec}), 201)
    dig = f"{base}/{name}"
    expect(
        http.post(
            dig + "/intents",
            json={"metadata": {"name": "i"}, "spec": {"intent": {"genericPlacementIntent": "g"}}},
        ),
        201,
    )
    expect(http.post(dig + "/generic-placement-intents", json={"metadata": {"name": "g"}}), 201)
    expect(
        http.post(
            dig + "/generic-placement-intents/g/app-intents",
            json=setup.app_intent_body("provider1", "cluster1"),
        ),
        201,
    )
    return dig


def test_full_state_machine_and_action_log(http: httpx.Client, sample_setup: SampleSetup) -> None:
    b = sample_setup.dig_path
    actions = states(http, sample_setup)
    assert summary(actions) == [("Created", 0), ("Approved", 0), ("Instantiated", 1)]
    status = http.get(b + "/status").json()["states"]
    context = actions[-1]["instance"]
    assert status["statusctxid"] == context and context.isdigit() and int(context) < 2**63
    assert actions[0]["time"].endswith("Z") and "T" in actions[0]["time"]

    expect(
        http.post(b + "/approve"), 500, "DeploymentIntentGroup has already been instantiateddig1"
    )
    expect(
        http.post(b + "/instantiate"),
        500,
        "DeploymentIntentGroup has already been instantiateddig1",
    )

    expect(http.post(b + "/terminate"), 202)
    actions = states(http, sample_setup)
    assert (actions[-1]["state"], actions[-1]["instance"], actions[-1]["revision"]) == (
        "Terminated",
        context,
        0,
    )
    expect(http.post(b + "/terminate"), 500, "DeploymentIntentGroup is not instantiated :dig1")
    expect(http.post(b + "/update"), 500, "DeploymentIntentGroup is not instantiated :dig1")

    # Re-instantiation from Terminated needs no approve, makes a new context, revision 1.
    expect(http.post(b + "/instantiate"), 202)
    actions = states(http, sample_setup)
    assert summary(actions)[-1] == ("Instantiated", 1)
    assert actions[-1]["instance"] != context
    expect(http.post(b + "/terminate"), 202)
    expect(http.post(b + "/approve"), 202)
    expect(http.post(b + "/approve"), 202)  # no-op
    assert summary(states(http, sample_setup))[-1:] == [("Approved", 0)]
    # An approved DIG shows no context in its status.
    assert set(http.get(b + "/status").json()) == {
        "project", "compositeApp", "compositeAppVersion", "compositeProfile", "name", "states",
    }  # fmt: skip


def test_created_dig_cannot_be_instantiated(http: httpx.Client, sample_setup: SampleSetup) -> None:
    dig = new_dig(http, sample_setup, "fresh")
    expect(
        http.post(dig + "/instantiate"),
        500,
        "DeploymentIntentGroup must be Approved before instantiatingfresh",
    )
    expect(http.post(dig + "/stop"), 500, "DeploymentIntentGroup have not been approved: fresh")
    missing = dig.rsplit("/", 1)[0] + "/missing"
    expect(http.post(missing + "/instantiate"), 404, "DeploymentIntentGroup not found")
    expect(http.post(missing + "/update"), 500, "DeploymentIntentGroup StateInfo not found")
    expect(
        http.post(missing + "/approve"),
        500,
        "DeploymentIntentGroup has no state info: missing: "
        "DeploymentIntentGroup StateInfo not found",
    )
    expect(http.post(missing + "/terminate"), 500)


def test_update_and_rollback_revisions(http: httpx.Client, sample_setup: SampleSetup) -> None:
    b = sample_setup.dig_path
    first = states(http, sample_setup)[-1]["instance"]
    expect(
        http.put(
            sample_setup.app_intent_path, json=sample_setup.app_intent_body("provider2", "cluster2")
        ),
        200,
    )
    assert expect(http.post(b + "/update"), 202).json() == 2
    assert expect(http.post(b + "/update"), 202).content == b"3\n"
    actions = states(http, sample_setup)
    assert summary(actions)[2:] == [
        ("Instantiated", 1),
        ("Updated", 1),
        ("Instantiated", 2),
        ("Updated", 2),
        ("Instantiated", 3),
    ]
    assert actions[3]["instance"] == first

    rollback = {"metadata": {"description": "back"}, "spec": {"revision": "1"}}
    expect(http.post(b + "/rollback", json=rollback), 202)
    actions = states(http, sample_setup)
    assert summary(actions)[-2:] == [("Updated", 3), ("Instantiated", 4)]
    assert actions[-1]["instance"] == first  # the context of revision 1 again
    wait_app_ready(http, sample_setup, "provider1", "cluster1")

    expect(http.post(b + "/rollback", json={"spec": {"revision": 1}}), 422)
    expect(http.post(b + "/rollback", content=b""), 400, "Empty body")
    expect(http.post(b + "/rollback", json={"spec": {}}), 400)
    expect(
        http.post(b + "/rollback", json={"spec": {"revision": "99"}}),
        500,
        "No matching ContextId found",
    )
    expect(
        http.post(b + "/rollback", json={"spec": {"revision": "abc"}}),
        500,
        'strconv.ParseInt: parsing "abc": invalid syntax',
    )


def test_rollback_has_no_state_check_and_matches_the_first_revision(
    http: httpx.Client, sample_setup: SampleSetup
) -> None:
    b = sample_setup.dig_path
    first = states(http, sample_setup)[-1]["instance"]
    expect(http.post(b + "/terminate"), 202)
    expect(http.post(b + "/instantiate"), 202)
    second = states(http, sample_setup)[-1]["instance"]
    expect(http.post(b + "/rollback", json={"spec": {"revision": "1"}}), 202)
    actions = states(http, sample_setup)
    assert actions[-1]["instance"] == first != second  # revision 1 is ambiguous: first match
    assert summary(actions)[-2:] == [("Updated", 1), ("Instantiated", 2)]


def test_logical_cloud_checks(http: httpx.Client, sample_setup: SampleSetup) -> None:
    dig = new_dig(http, sample_setup, "nolc", cloud="missing")
    expect(http.post(dig + "/approve"), 202)
    expect(http.post(dig + "/instantiate"), 400, "Failed to obtain Logical Cloud specified")

    clouds = f"/v2/projects/{sample_setup.project}/logical-clouds"
    expect(http.post(clouds, json={"metadata": {"name": "half"}, "spec": {"level": "1"}}), 201)
    dig = new_dig(http, sample_setup, "halfdig", cloud="half")
    expect(http.post(dig + "/approve"), 202)
    expect(http.post(dig + "/instantiate"), 500, "The Logical Cloud has never been instantiated")
    ref = {
        "metadata": {"name": "only2"},
        "spec": {"clusterProvider": "provider2", "cluster": "cluster2"},
    }
    expect(http.post(clouds + "/half/cluster-references", json=ref), 201)
    expect(http.post(clouds + "/half/instantiate"), 202)
    expect(
        http.post(dig + "/instantiate"),
        400,
        "The specified Logical Cloud doesn't provide the mandatory clusters",
    )
    expect(http.post(clouds + "/half/terminate"), 202)
    expect(
        http.post(dig + "/instantiate"),
        500,
        "The Logical Cloud is not currently instantiated (has been terminated).",
    )


def test_missing_placement_link_profile_and_intent(
    http: httpx.Client, sample_setup: SampleSetup
) -> None:
    dig = new_dig(http, sample_setup, "links")
    expect(http.post(dig + "/approve"), 202)
    expect(http.delete(dig + "/intents/i"), 204)
    expect(http.post(dig + "/instantiate"), 404, "Intent not found")
    expect(
        http.post(
            dig + "/intents",
            json={"metadata": {"name": "i"}, "spec": {"intent": {"genericPlacementIntent": "g"}}},
        ),
        201,
    )
    expect(
        http.put(
            dig + "/generic-placement-intents/g/app-intents/collectd-placement-intent",
            json={
                "metadata": {"name": "collectd-placement-intent"},
                "spec": {"app": "collectd", "intent": {}},
            },
        ),
        200,
    )
    expect(
        http.post(dig + "/instantiate"),
        500,
        "No compatible clusters have been provided to the Deployment Intent Group",
    )


def test_dig_delete_rules(http: httpx.Client, sample_setup: SampleSetup) -> None:
    b = sample_setup.dig_path
    generic = "The server encountered an internal error and was unable to complete your request."
    expect(http.delete(b), 500, generic)
    expect(http.post(b + "/terminate"), 202)
    expect(http.delete(b), 500, generic)  # still terminating
    poll(lambda: http.get(b + "/status").json()["status"] == "Terminated", what="terminated")
    expect(http.delete(b), 409, "Cannot delete parent without deleting child references first")
    expect(http.delete(b.rsplit("/", 1)[0] + "/nope"), 404, "The requested resource not found")
    expect(http.delete(sample_setup.app_intent_path), 204)
    expect(http.delete(f"{b}/generic-placement-intents/{sample_setup.gpi}"), 204)
    expect(http.delete(f"{b}/intents/dig1-deployment-intent"), 204)
    expect(http.delete(b), 204)
    expect(
        http.get(b + "/status"),
        400,
        "DeploymentIntentGroup not found: DeploymentIntentGroup not found",
    )
