"""Validation of the migration parameters in activityParams["all-activities"]."""

from __future__ import annotations

import pytest

from emco_migrate.emcomigrate.types import (
    ClusterRef,
    MigrationParams,
    ParamError,
    Strategy,
)

GOOD = {
    "emcoURL": "http://192.168.1.201:30415/",
    "project": "proj1",
    "compositeApp": "capp1",
    "compositeAppVersion": "v1",
    "deploymentIntentGroup": "dig1",
    "targetClusterProvider": "provider2",
    "targetClusterName": "cluster2",
}


def parse(**overrides: str) -> MigrationParams:
    return MigrationParams.from_activity_params({"all-activities": {**GOOD, **overrides}})


def test_good_params() -> None:
    params = parse()
    assert params.dig.emco_url == "http://192.168.1.201:30415"
    assert params.target == ClusterRef("provider2", "cluster2")
    assert params.strategy is Strategy.DIRECT
    assert not params.dry_run
    assert params.apps is None


def test_one_error_lists_every_missing_key() -> None:
    with pytest.raises(ParamError) as caught:
        MigrationParams.from_activity_params(
            {"all-activities": {"emcoURL": "http://x", "project": " "}}
        )
    message = str(caught.value)
    for key in ("project", "compositeApp", "compositeAppVersion", "deploymentIntentGroup",
                "targetClusterProvider", "targetClusterName"):  # fmt: skip
        assert key in message
    assert "emcoURL" not in message.split("missing required parameters:")[1]


def test_missing_all_activities() -> None:
    with pytest.raises(ParamError, match=r"all-activities.*missing"):
        MigrationParams.from_activity_params({"GetDigAppIntents": {}})
    with pytest.raises(ParamError, match=r"all-activities.*missing"):
        MigrationParams.from_activity_params(None)


@pytest.mark.parametrize("url", ["192.168.1.201:30415", "ftp://host", "http://", "emco"])
def test_emco_url_must_be_http(url: str) -> None:
    with pytest.raises(ParamError, match="emcoURL"):
        parse(emcoURL=url)


def test_optional_params() -> None:
    params = parse(
        apps="a, b,,a",
        sourceClusterProvider="provider1",
        sourceClusterName="cluster1",
        dryRun="true",
        strategy="make-before-break",
        verifyTimeoutSeconds="30",
    )
    assert params.apps == ("a", "b")
    assert params.source == ClusterRef("provider1", "cluster1")
    assert params.dry_run
    assert params.strategy is Strategy.MAKE_BEFORE_BREAK
    assert params.verify_timeout_seconds == 30


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("dryRun", "maybe", "dryRun"),
        ("strategy", "teleport", "strategy"),
        ("verifyTimeoutSeconds", "ten", "verifyTimeoutSeconds"),
        ("verifyTimeoutSeconds", "0", "verifyTimeoutSeconds"),
        ("sourceClusterName", "cluster1", "all-activities"),
    ],
)
def test_bad_optional_params_name_the_field(key: str, value: str, field: str) -> None:
    with pytest.raises(ParamError) as caught:
        parse(**{key: value})
    assert field in caught.value.field
