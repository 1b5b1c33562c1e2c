"""Pure logic: chart scanning, placement resolution, status query validation, error mapping."""

from __future__ import annotations

import io
import tarfile

import pytest

from emco_migrate.emcosim.deploy.charts import ChartError, chart_resources, check_tgz
from emco_migrate.emcosim.deploy.placement import (
    NO_CLUSTERS,
    NO_QUALIFIED,
    NOT_IN_LOGICAL_CLOUD,
    ClusterName,
    choose_clusters,
    resolve,
)
from emco_migrate.emcosim.deploy.status_query import ListMode, StatusMode, StatusQuery
from emco_migrate.emcosim.errors import ModuleError, lifecycle_error, orchestrator_error
from emco_migrate.emcosim.fixtures import make_tgz, sample_chart
from emco_migrate.emcosim.store.contexts import ResourceSpec
from emco_migrate.wire.emco import PlacementIntent
from emco_migrate.wire.structs import from_json

C1, C2, C3 = ClusterName("p1", "c1"), ClusterName("p2", "c2"), ClusterName("p2", "c3")
LABELS = {("p2", "edge"): ["c2", "c3"]}


def intent(json_text: str) -> PlacementIntent:
    return from_json(PlacementIntent, json_text)


def labels(provider: str, label: str) -> list[str]:
    return LABELS.get((provider, label), [])


# ------------------------------------------------------------------------------- charts


def test_chart_resources_use_literal_names_or_the_app_name() -> None:
    assert chart_resources(sample_chart("collectd"), "collectd") == [
        ResourceSpec("apps", "v1", "Deployment", "collectd"),
        ResourceSpec("", "v1", "Service", "collectd-svc"),
    ]


def test_chart_scan_reads_every_document_and_only_templates() -> None:
    chart = make_tgz({
        "a/Chart.yaml": "kind: NotAResource\n",
        "a/templates/_helpers.tpl": "kind: Secret\n",
        "a/templates/all.yaml": (
            "{{- if .Values.on }}\napiVersion: batch/v1\nkind: Job\nmetadata:\n"
            "  labels:\n    name: not-this\n  name: job-1\n{{- end }}\n---\n"
            "apiVersion: {{ .Values.api }}\nkind: StatefulSet\nmetadata:\n  name: \"db\"\n"
            "---\n# just a comment\n"
        ),
    })  # fmt: skip
    assert chart_resources(chart, "a") == [
        ResourceSpec("batch", "v1", "Job", "job-1"),
        ResourceSpec("apps", "v1", "StatefulSet", "db"),
    ]


def _symlink(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = "elsewhere"
    return info


def _tar(gz: bool, members: list[tarfile.TarInfo]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gz else "w") as archive:
        for member in members:
            archive.addfile(member, io.BytesIO(b"") if member.isfile() else None)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"not a tgz",
        _tar(False, [tarfile.TarInfo("a")]),
        _tar(True, []),
        _tar(True, [tarfile.TarInfo("a"), _symlink("link")]),
    ],
    ids=["garbage", "plain-tar", "empty", "symlink"],
)
def test_check_tgz_refuses_what_emco_refuses(data: bytes) -> None:
    with pytest.raises(ChartError):
        check_tgz(data)


# ---------------------------------------------------------------------------- placement


def test_allof_clusters_and_labels_are_all_mandatory() -> None:
    wanted = resolve(
        intent('{"allOf":[{"clusterProvider":"p1","cluster":"c1"},'
               '{"clusterProvider":"p2","clusterLabel":"edge"}]}'),
        labels,
    )  # fmt: skip
    assert wanted.mandatory == [C1, C2, C3]
    assert choose_clusters(wanted, [C1, C2, C3]) == [C1, C2, C3]
    with pytest.raises(ModuleError, match=NOT_IN_LOGICAL_CLOUD):
        choose_clusters(wanted, [C1, C2])


def test_anyof_picks_the_first_candidate_in_the_logical_cloud() -> None:
    wanted = resolve(
        intent('{"anyOf":[{"clusterProvider":"p1","cluster":"c1"},'
               '{"clusterProvider":"p2","clusterLabel":"edge"}]}'),
        labels,
    )  # fmt: skip
    assert wanted.groups == [[C1, C2, C3]]
    assert choose_clusters(wanted, [C3, C2]) == [C2]
    with pytest.raises(ModuleError, match=NO_QUALIFIED):
        choose_clusters(wanted, [])


def test_allof_item_with_nested_anyof_is_a_group() -> None:
    wanted = resolve(
        intent('{"allOf":[{"clusterProvider":"p1","cluster":"c1"},'
               '{"anyOf":[{"clusterProvider":"p2","clusterLabel":"edge"}]}]}'),
        labels,
    )  # fmt: skip
    assert choose_clusters(wanted, [C1, C3]) == [C1, C3]


@pytest.mark.parametrize("text", ["{}", '{"allOf":[{"clusterProvider":"p9","clusterLabel":"x"}]}'])
def test_nothing_to_place_is_emcos_error(text: str) -> None:
    with pytest.raises(ModuleError, match=NO_CLUSTERS):
        choose_clusters(resolve(intent(text), labels), [C1])


# ------------------------------------------------------------------------- status query


def test_status_query_defaults_and_precedence() -> None:
    query = StatusQuery.parse("")
    assert (query.mode, query.output.value, query.list_mode) == (StatusMode.RSYNC, "all", None)
    query = StatusQuery.parse("type=cluster&status=deployed&resources&apps&cluster=p%2Bc")
    assert query.mode == StatusMode.DEPLOYED
    assert query.list_mode == ListMode.APPS
    assert query.clusters == [ClusterName("p", "c")]


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("type=foo", "Invalid query type"),
        ("status=running", "Invalid query status"),
        ("output=brief", "Invalid query output"),
        ("instance=", "Invalid query instance"),
        ("app=-bad", "Invalid app query"),
        ("app=" + "a" * 64, "Invalid app query"),
        ("cluster=p+c", "Invalid cluster query"),
        ("cluster=pc", "Invalid cluster query"),
        ("cluster=a%2Bb%2Bc", "Invalid cluster query"),
        ("resource=bad_", "Invalid resources query"),
    ],
)
def test_status_query_errors(query: str, text: str) -> None:
    with pytest.raises(ModuleError) as err:
        StatusQuery.parse(query)
    assert err.value.message == text


# --------------------------------------------------------------------------- error mapping


@pytest.mark.parametrize(
    ("message", "status", "text"),
    [
        ("AppIntent not found", 404, "Intent not found"),
        ("DeploymentIntent already exists", 409, "Intent already exists"),
        ("GenericPlacementIntent not found", 404, "Intent not found"),
        ("CompositeApp not found", 404, "App not found"),
        ("x: db Insert parent resource not found", 409,
         "Cannot perform requested operation. Parent resource not found"),
        ("db Remove parent child constraint", 409,
         "Cannot delete parent without deleting child references first"),
        ("The DeploymentIntentGroup is not updated", 409,
         "The specified DeploymentIntentGroup is not in Created status"),
        ("something else", 500,
         "The server encountered an internal error and was unable to complete your request."),
    ],
)  # fmt: skip
def test_orchestrator_mapping_is_first_substring_wins(message: str, status: int, text: str) -> None:
    mapped = orchestrator_error(ModuleError(message))
    assert (mapped.status, mapped.text) == (status, text)


def test_lifecycle_mapping_writes_the_root_cause_for_500s() -> None:
    err = ModuleError("DeploymentIntentGroup must be Approved before instantiatingd").wrap(
        "Error in handleStateInfo for DeploymentIntent:: d"
    )
    mapped = lifecycle_error(err)
    assert (mapped.status, mapped.text) == (
        500,
        "DeploymentIntentGroup must be Approved before instantiatingd",
    )
    lc = lifecycle_error(
        ModuleError("LogicalCloud not found").wrap("Failed to obtain Logical Cloud specified")
    )
    assert (lc.status, lc.text) == (400, "Failed to obtain Logical Cloud specified")
