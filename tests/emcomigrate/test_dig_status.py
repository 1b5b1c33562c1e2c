"""Reading DIG status answers (``GET .../status``) and the readiness checks on them."""

from __future__ import annotations

from typing import Any

from emco_migrate.emcomigrate.dig_status import DigStatus, failed_resources, ready_problem
from emco_migrate.emcomigrate.types import ClusterRef

TARGET = ClusterRef("provider2", "cluster2")


def actions(*entries: tuple[str, str, int]) -> dict[str, Any]:
    return {
        "statusctxid": entries[-1][1],
        "actions": [
            {"state": s, "instance": i, "revision": r, "time": "2026-11-27T10:00:00Z"}
            for s, i, r in entries
        ],
    }


def ready_body(resources: list[dict[str, Any]], connectivity: str = "Available",
               top: str = "Ready") -> dict[str, Any]:  # fmt: skip
    return {
        "name": "dig1",
        "states": actions(("Instantiated", "1", 1)),
        "deployedStatus": "Instantiated",
        "readyStatus": top,
        "apps": [
            {
                "name": "collectd",
                "clusters": [
                    {"clusterProvider": "provider2", "cluster": "cluster2",
                     "connectivity": connectivity, "resources": resources}
                ],
            }
        ],
    }  # fmt: skip


def res(kind: str, ready: str, deployed: str = "Applied") -> dict[str, Any]:
    return {"GVK": {"Group": "apps", "Version": "v1", "Kind": kind}, "name": "collectd",
            "deployedStatus": deployed, "readyStatus": ready}  # fmt: skip


def test_state_and_revision_come_from_the_last_action() -> None:
    status = DigStatus.parse(
        {
            "states": actions(
                ("Created", "", 0),
                ("Approved", "", 0),
                ("Instantiated", "11", 1),
                ("Updated", "11", 1),
                ("Instantiated", "22", 2),
            )
        }
    )
    assert (status.state, status.revision, status.instance) == ("Instantiated", 2, "22")
    assert status.replaced_context(2) == "11"
    assert status.replaced_context(1) is None


def test_instantiated_revisions_are_ambiguous_after_reinstantiation() -> None:
    status = DigStatus.parse(
        {
            "states": actions(
                ("Instantiated", "11", 1), ("Terminated", "11", 0), ("Instantiated", "33", 1)
            )
        }
    )
    assert [a.instance for a in status.instantiated_revisions(1)] == ["11", "33"]


def test_empty_status() -> None:
    status = DigStatus.parse({"name": "dig1", "states": {"statusctxid": "", "actions": []}})
    assert (status.state, status.revision, status.apps) == ("", 0, {})


def test_ready_needs_resources_connectivity_and_ready_status() -> None:
    ok = DigStatus.parse(ready_body([res("Deployment", "Ready"), res("Service", "Ready")]))
    assert ready_problem(ok, "collectd", TARGET) is None
    assert ok.clusters_of("collectd") == {TARGET}


def test_vacuous_ready_is_not_ready() -> None:
    # status=ready with filters that match nothing answers readyStatus Ready and no apps.
    vacuous = DigStatus.parse({"readyStatus": "Ready", "states": actions(("Instantiated", "1", 1))})
    assert ready_problem(vacuous, "collectd", TARGET) == (
        "collectd has no resources on provider2+cluster2 yet"
    )
    empty = DigStatus.parse(ready_body([]))
    assert ready_problem(empty, "collectd", TARGET) is not None


def test_not_ready_resources_are_named() -> None:
    status = DigStatus.parse(
        ready_body([res("Deployment", "NotReady"), res("Service", "Ready")], top="NotReady")
    )
    assert ready_problem(status, "collectd", TARGET) == (
        "collectd on provider2+cluster2 is not Ready (Deployment/collectd=NotReady)"
    )


def test_unavailable_cluster_is_not_ready() -> None:
    status = DigStatus.parse(ready_body([res("Deployment", "Ready")], connectivity="Unknown"))
    assert ready_problem(status, "collectd", TARGET) == (
        "provider2+cluster2 connectivity is Unknown"
    )


def test_failed_resources() -> None:
    status = DigStatus.parse(ready_body([res("Deployment", "NotReady", deployed="Failed")]))
    assert failed_resources(status, ("collectd",)) == [
        "collectd Deployment/collectd on provider2+cluster2"
    ]
    assert failed_resources(status, ("other",)) == []


def test_rsync_mode_keys_are_read_too() -> None:
    body = {
        "states": actions(("Instantiated", "1", 1)),
        "status": "Instantiated",
        "apps": [{"name": "a", "clusters": [{"clusterProvider": "p", "cluster": "c",
                  "readyStatus": "Available",
                  "resources": [{"GVK": {"Kind": "Service"}, "name": "a",
                                 "rsyncStatus": "Applied"}]}]}],
    }  # fmt: skip
    status = DigStatus.parse(body)
    assert status.deployed_status == "Instantiated"
    entry = status.on("a", ClusterRef("p", "c"))
    assert entry is not None and entry.connectivity == "Available"
    assert entry.resources[0].deployed == "Applied"


def test_ready_clusters_are_those_whose_resources_are_all_ready() -> None:
    source = ClusterRef("provider1", "cluster1")
    body = ready_body([res("Deployment", "Ready"), res("Service", "NotReady")], top="NotReady")
    body["apps"][0]["clusters"] += [
        {"clusterProvider": "provider1", "cluster": "cluster1", "connectivity": "Retrying",
         "resources": [res("Deployment", "Ready")]},
        {"clusterProvider": "provider3", "cluster": "cluster3", "connectivity": "Available",
         "resources": []},
    ]  # fmt: skip
    # The monitor's last report counts, whatever the connectivity; no resources: not Ready.
    assert DigStatus.parse(body).ready_clusters("collectd") == {source}
    assert DigStatus.parse(body).ready_clusters("other") == frozenset()
