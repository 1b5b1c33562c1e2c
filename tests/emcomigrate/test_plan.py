"""Selecting app intents and planning placements."""

from __future__ import annotations

from typing import Any

import pytest

from emco_migrate.emcomigrate.dig_status import DigStatus
from emco_migrate.emcomigrate.plan import interim_intent, is_noop, plan_items, select
from emco_migrate.emcomigrate.types import AppIntent, ClusterRef, MigrationParams, ParamError

C1 = ClusterRef("provider1", "cluster1")
C2 = ClusterRef("provider2", "cluster2")


def params(**extra: str) -> MigrationParams:
    return MigrationParams.from_activity_params(
        {"all-activities": {
            "emcoURL": "http://emco", "project": "p", "compositeApp": "ca",
            "compositeAppVersion": "v1", "deploymentIntentGroup": "dig",
            "targetClusterProvider": C2.provider, "targetClusterName": C2.cluster, **extra}}
    )  # fmt: skip


def intent(app: str, *clusters: ClusterRef, **extra: Any) -> AppIntent:
    placement = {"allOf": [{"clusterProvider": c.provider, "cluster": c.cluster} for c in clusters]}
    body = {"metadata": {"name": f"{app}-pi", "userData1": "u"},
            "spec": {"app": app, "intent": {**placement, **extra}}}  # fmt: skip
    return AppIntent.from_body("gpi", f"{app}-pi", body)


def deployed(**apps: tuple[ClusterRef, ...]) -> DigStatus:
    return DigStatus.parse(
        {"apps": [
            {"name": app, "clusters": [
                {"clusterProvider": c.provider, "cluster": c.cluster,
                 "resources": [{"GVK": {"Kind": "Deployment"}, "name": app}]}
                for c in clusters]}
            for app, clusters in apps.items()]}
    )  # fmt: skip


def test_select_all_by_default() -> None:
    intents = [intent("a", C1), intent("b", C1)]
    assert select(intents, deployed(), params()) == intents


def test_select_by_app_names() -> None:
    intents = [intent("a", C1), intent("b", C1)]
    assert [i.app for i in select(intents, deployed(), params(apps="b"))] == ["b"]


def test_unknown_app_names_are_listed() -> None:
    with pytest.raises(ParamError, match="unknown app\\(s\\) x, y; the DIG's app intents cover: a"):
        select([intent("a", C1)], deployed(), params(apps="a,x,y"))


def test_select_by_source_uses_where_apps_run() -> None:
    intents = [intent("a", C1), intent("b", C1)]
    status = deployed(a=(C1,), b=(ClusterRef("provider3", "cluster3"),))
    chosen = select(
        intents, status, params(sourceClusterProvider="provider1", sourceClusterName="cluster1")
    )
    assert [i.app for i in chosen] == ["a"]


def test_plan_keeps_originals_and_targets_allof() -> None:
    original = intent("a", C1)
    (item,) = plan_items([original], deployed(a=(C1,)), params())
    assert item.original == original.body.encode()
    assert item.original["metadata"] == {"name": "a-pi", "userData1": "u"}
    assert item.current_clusters == (C1,)
    assert item.new_intent == {"allOf": [{"clusterProvider": "provider2", "cluster": "cluster2"}]}
    assert item.interim_intent is None


def test_make_before_break_interim_adds_target_and_keeps_the_rest() -> None:
    label = {"anyOf": [{"clusterProvider": "provider1", "clusterLabel": "edge"}]}
    original = intent("a", C1, **label)
    (item,) = plan_items([original], deployed(a=(C1,)), params(strategy="make-before-break"))
    assert item.interim_intent == {
        "allOf": [
            {"clusterProvider": "provider1", "cluster": "cluster1"},
            {"clusterProvider": "provider2", "cluster": "cluster2"},
        ],
        **label,
    }
    # the recorded original is untouched
    assert len(original.intent.all_of or []) == 1


def test_interim_does_not_duplicate_the_target() -> None:
    placement = intent("a", C2).intent
    assert interim_intent(placement, C2) == placement


def test_noop_only_when_every_app_runs_only_on_target() -> None:
    p = params()
    assert is_noop(plan_items([intent("a", C2)], deployed(a=(C2,)), p), C2)
    assert not is_noop(plan_items([intent("a", C1)], deployed(a=(C1, C2)), p), C2)
    assert not is_noop(
        plan_items([intent("a", C2), intent("b", C1)], deployed(a=(C2,), b=(C1,)), p), C2
    )


def test_not_a_noop_when_an_intent_points_elsewhere_though_the_app_runs_on_target() -> None:
    # After a run was terminated mid-UpdateAppIntents: deployed on C2, intent says C1.
    p = params()
    assert not is_noop(plan_items([intent("a", C1)], deployed(a=(C2,)), p), C2)
    assert is_noop(plan_items([intent("a", C2, anyOf=[])], deployed(a=(C2,)), p), C2)
