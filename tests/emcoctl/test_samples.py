"""The sample app and intents: packaging, rendering, and the requests they make."""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import kubernetes_validate
import pytest
import yaml

from emco_migrate.emcoctl.client import EmcoHttp, new_http_client
from emco_migrate.emcoctl.commands import Runner, Verb
from emco_migrate.emcoctl.config import EmcoctlConfig, Service, find_config
from emco_migrate.emcoctl.documents import Resource, read_resources
from emco_migrate.emcoctl.goyaml import compose_all
from emco_migrate.emcoctl.routing import service_for
from emco_migrate.emcoctl.samples import (
    DEFAULT_SAMPLES_DIR,
    SamplesError,
    package_samples,
    write_config_file,
    write_values_file,
)
from emco_migrate.emcoctl.samples import main as samples_main
from emco_migrate.emcoctl.template import render
from emco_migrate.emcomigrate.names import ALL_ACTIVITIES, MIGRATE_WORKFLOW_CLIENT, TASK_QUEUE
from emco_migrate.wire import gojson, temporal

INTENTS = DEFAULT_SAMPLES_DIR / "intents"
APP = DEFAULT_SAMPLES_DIR / "apps" / "hello-edge"
STEPS = [
    "00.define-clusters-proj.yaml",
    "01.instantiate-lc.yaml",
    "02.define-app-dig.yaml",
    "03.instantiate-dig.yaml",
    "04.define-workflow-1.yaml",
    "05.start-workflow.yaml",
    "06.get-workflow-status.yaml",
    "07.cancel-workflow.yaml",
    "define-workflow-2.yaml",
    "start-workflow-2.yaml",
    "08.define-evacuation.yaml",
    "09.start-evacuation.yaml",
]
VALUES = ["values-local.yaml", "values-remote.yaml"]
ACTIVITY_PARAMS = {
    "emcoURL",
    "clmURL",
    "dcmURL",
    "project",
    "compositeApp",
    "compositeAppVersion",
    "deploymentIntentGroup",
    "targetClusterProvider",
    "targetClusterName",
}
STATUS_QUERY_KEYS = {
    "temporalServer",
    "workflowID",
    "runID",
    "queryType",
    "waitForResult",
    "runDescribeWfExec",
    "getWfHistory",
}
NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


@pytest.fixture
def in_intents(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(INTENTS)  # the seed's `cd samples/intents` convention
    yield INTENTS


def resources(step: str, values: str = "values-local.yaml") -> list[Resource]:
    warnings: list[str] = []
    docs = read_resources(INTENTS / step, INTENTS / values, warn=warnings.append)
    assert warnings == []
    return docs


# --------------------------------------------------------------------------- packaging


def archive_members(path: Path) -> dict[str, bytes | None]:
    with tarfile.open(path, "r:gz") as tar:
        out: dict[str, bytes | None] = {}
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            out[member.name] = handle.read() if handle else None
            assert (member.uid, member.gid, member.mtime) == (0, 0, 0)
        return out


def test_package_samples_builds_chart_and_profile(tmp_path: Path) -> None:
    built = package_samples(DEFAULT_SAMPLES_DIR, tmp_path)
    assert built == {
        "hello-edge": tmp_path / "hello-edge.tgz",
        "hello-edge-profile": tmp_path / "hello-edge-profile.tgz",
    }
    chart = archive_members(built["hello-edge"])
    # EMCO extracts the archive and loads <app name>/ as the chart.
    assert set(chart) == {
        "hello-edge",
        "hello-edge/Chart.yaml",
        "hello-edge/values.yaml",
        "hello-edge/templates",
        "hello-edge/templates/deployment.yaml",
        "hello-edge/templates/service.yaml",
    }
    profile = archive_members(built["hello-edge-profile"])
    assert set(profile) == {"manifest.yaml", "override_values.yaml"}
    manifest = yaml.safe_load(profile["manifest.yaml"] or b"")
    assert manifest["type"]["values"] in profile


def test_packages_are_reproducible(tmp_path: Path) -> None:
    first = package_samples(DEFAULT_SAMPLES_DIR, tmp_path / "a")
    second = package_samples(DEFAULT_SAMPLES_DIR, tmp_path / "b")
    for name, path in first.items():
        assert path.read_bytes() == second[name].read_bytes()


def test_package_samples_defaults_to_the_build_folder_values_local_names() -> None:
    values = yaml.safe_load((INTENTS / "values-local.yaml").read_text())
    built = package_samples()
    assert built["hello-edge"] == (INTENTS / values["AppChart"]).resolve()
    assert built["hello-edge-profile"] == (INTENTS / values["AppProfile"]).resolve()


def test_package_samples_rejects_a_bad_layout(tmp_path: Path) -> None:
    (tmp_path / "apps" / "x").mkdir(parents=True)
    (tmp_path / "intents").mkdir()
    with pytest.raises(SamplesError, match=r"helm/x/Chart\.yaml"):
        package_samples(tmp_path, tmp_path / "out")


# --------------------------------------------------------------------------- the chart


def render_chart() -> list[dict[str, Any]]:
    """Render the chart with the profile's overrides, as Helm would for release r1."""
    chart = APP / "helm" / "hello-edge"
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    values = yaml.safe_load((chart / "values.yaml").read_text())
    values.update(yaml.safe_load((APP / "profile" / "override_values.yaml").read_text()))
    data = {
        "Values": values,
        "Release": {"Name": "r1", "Namespace": "default"},
        "Chart": {
            "Name": meta["name"],
            "Version": meta["version"],
            "AppVersion": meta["appVersion"],
        },
    }
    out = []
    for template in sorted((chart / "templates").glob("*.yaml")):
        rendered = render(template.read_text(), data, source=template.name)
        assert rendered.missing == ()
        out.append(yaml.safe_load(rendered.text))
    return out


def test_chart_renders_valid_kubernetes_objects() -> None:
    objects = render_chart()
    version = kubernetes_validate.latest_version()
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)
    kinds = {o["kind"]: o for o in objects}
    assert set(kinds) == {"Deployment", "Service"}
    deployment = kinds["Deployment"]
    assert deployment["metadata"]["name"] == "r1-hello-edge"
    assert deployment["spec"]["replicas"] == 1  # the profile's override
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    [container] = pod["containers"]
    assert container["image"].startswith("docker.io/nginxinc/nginx-unprivileged:")
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert kinds["Service"]["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


# --------------------------------------------------------------------------- intents


@pytest.mark.parametrize("values", VALUES)
@pytest.mark.parametrize("step", STEPS)
def test_every_document_is_valid_for_emcoctl_and_emco(step: str, values: str) -> None:
    for resource in resources(step, values):
        assert resource.anchor and not resource.anchor.startswith("/")
        service_for(resource.anchor)
        name = resource.metadata.name
        assert name == "" or NAME.match(name), name
        assert "<no value>" not in resource.body().decode()
    text = render((INTENTS / step).read_text(), yaml.safe_load((INTENTS / values).read_text()))
    for node in compose_all(text.text):
        keys = {k.value: v for k, v in node.value}
        assert keys["version"].value == "emco/v2"


def test_values_local_documents_every_key() -> None:
    text = (INTENTS / "values-local.yaml").read_text()
    header = text.split("\n\n")[0] + text.split("#   AppChart")[1]
    for key in yaml.safe_load(text):
        assert re.search(rf"#\s+{key}\b", text), key
    assert "EmcoURL" in header
    assert set(yaml.safe_load(text)) == set(
        yaml.safe_load((INTENTS / "values-remote.yaml").read_text())
    )


def test_values_local_uses_the_fixed_local_ports() -> None:
    values = yaml.safe_load((INTENTS / "values-local.yaml").read_text())
    assert values["EmcoURL"] == "http://127.0.0.1:9015"
    assert (values["WfClientHost"], values["WfClientPort"]) == ("127.0.0.1", 9090)
    assert values["TemporalServer"] == "127.0.0.1:7233"
    local = find_config(str(INTENTS / "emco-cfg-local.yaml"))
    for service in (Service.ORCHESTRATOR, Service.CLM, Service.DCM, Service.WORKFLOWMGR):
        assert local.base_url(service) == "http://127.0.0.1:9015/v2"


def temporal_spec(step: str) -> tuple[dict[str, Any], temporal.TemporalSpec]:
    [doc] = resources(step)
    body = gojson.plain(gojson.parse(doc.body()), float64=False)
    return body, temporal.TemporalSpec.decode(body["spec"]["temporal"])


@pytest.mark.parametrize(
    ("step", "workflow_id", "target"),
    [
        ("04.define-workflow-1.yaml", "migrate-to-cluster2", ("provider2", "cluster2")),
        ("define-workflow-2.yaml", "migrate-to-cluster1", ("provider1", "cluster1")),
    ],
)
def test_workflow_intents_decode_with_go_rules(
    step: str, workflow_id: str, target: tuple[str, str]
) -> None:
    body, spec = temporal_spec(step)
    assert body["metadata"]["name"] == workflow_id
    assert body["spec"]["workflowClient"] == {
        "clientEndpointName": "127.0.0.1",
        "clientEndpointPort": 9090,
    }
    assert spec.workflow_client_name == MIGRATE_WORKFLOW_CLIENT
    assert (spec.start_options.id, spec.start_options.task_queue) == (workflow_id, TASK_QUEUE)
    options = spec.params.activity_options or {}
    assert options, "activityOptions"
    for name, entry in options.items():
        # EMCO's schema rejects an entry without RetryPolicy; a heartbeat timeout of a few ms
        # (the Go sample's 5 ms) would fail every attempt of an activity that polls.
        assert entry.retry_policy is not None, name
        assert entry.retry_policy.maximum_attempts > 1
        assert entry.retry_policy.initial_interval_ns >= 1_000_000_000
        assert entry.start_to_close_ns == 60_000_000_000
        assert 10_000_000_000 <= entry.heartbeat_ns < entry.start_to_close_ns
    params = (spec.params.activity_params or {})[ALL_ACTIVITIES] or {}
    assert set(params) == ACTIVITY_PARAMS
    assert params["emcoURL"] == "http://127.0.0.1:9015"
    assert (params["targetClusterProvider"], params["targetClusterName"]) == target
    assert temporal.TemporalSpec.from_json(spec.to_json()) == spec


def test_the_two_workflow_intents_differ_only_in_name_id_and_target() -> None:
    first, _ = temporal_spec("04.define-workflow-1.yaml")
    second, _ = temporal_spec("define-workflow-2.yaml")
    first_params = first["spec"]["temporal"]["workflowParams"]
    second_params = second["spec"]["temporal"]["workflowParams"]
    assert first_params["activityOptions"] == second_params["activityOptions"]
    assert first["metadata"]["name"] != second["metadata"]["name"]


def test_status_anchor_uses_only_keys_workflowmgr_accepts() -> None:
    [doc] = resources("06.get-workflow-status.yaml")
    assert doc.metadata.name == ""  # a name would be appended after the query string
    path, _, query = doc.anchor.partition("?")
    assert path.endswith("/temporal-workflow-intents/migrate-to-cluster2/status")
    params = dict(parse_qsl(query, strict_parsing=True))
    assert set(params) <= STATUS_QUERY_KEYS
    assert params["temporalServer"] == "127.0.0.1:7233"
    assert params["workflowID"] == "migrate-to-cluster2"
    assert params["queryType"] == "current-state"


def test_cancel_body_is_the_intended_cancel_request() -> None:
    [doc] = resources("07.cancel-workflow.yaml")
    body = gojson.plain(gojson.parse(doc.body()))
    assert NAME.match(body["metadata"]["name"])
    spec = body["spec"]
    assert set(spec) <= {"temporalServer", "workflowID", "runID", "terminate", "reason", "details"}
    assert spec["temporalServer"] == "127.0.0.1:7233"
    assert len(spec["temporalServer"]) <= 16  # the schema's limit, were it fixed
    assert spec["terminate"] is False
    assert spec["workflowID"] == "migrate-to-cluster2"


# --------------------------------------------------------------------------- requests


DIG = "projects/proj1/composite-apps/hello-capp/v1/deployment-intent-groups/hello-dig"
EXPECTED_APPLY = [
    ("POST", "orch/controllers"),
    ("POST", "clm/cluster-providers"),
    ("POST", "clm/cluster-providers"),
    ("POST", "clm/cluster-providers/provider1/clusters"),
    ("POST", "clm/cluster-providers/provider2/clusters"),
    ("POST", "clm/cluster-providers/provider1/clusters/cluster1/labels"),
    ("POST", "clm/cluster-providers/provider2/clusters/cluster2/labels"),
    ("POST", "orch/projects"),
    ("POST", "dcm/projects/proj1/logical-clouds"),
    ("POST", "dcm/projects/proj1/logical-clouds/lc1/cluster-references"),
    ("POST", "dcm/projects/proj1/logical-clouds/lc1/cluster-references"),
    ("POST", "dcm/projects/proj1/logical-clouds/lc1/instantiate"),
    ("POST", "orch/projects/proj1/composite-apps"),
    ("POST", "orch/projects/proj1/composite-apps/hello-capp/v1/apps"),
    ("POST", "orch/projects/proj1/composite-apps/hello-capp/v1/composite-profiles"),
    (
        "POST",
        "orch/projects/proj1/composite-apps/hello-capp/v1/composite-profiles/"
        "hello-capp-profile/profiles",
    ),
    ("POST", "orch/projects/proj1/composite-apps/hello-capp/v1/deployment-intent-groups"),
    ("POST", f"orch/{DIG}/generic-placement-intents"),
    ("POST", f"orch/{DIG}/generic-placement-intents/hello-placement/app-intents"),
    ("POST", f"orch/{DIG}/intents"),
    ("POST", f"orch/{DIG}/approve"),
    ("POST", f"orch/{DIG}/instantiate"),
    ("POST", f"wfm/{DIG}/temporal-workflow-intents"),
    ("POST", f"wfm/{DIG}/temporal-workflow-intents/migrate-to-cluster2/start"),
]
HOSTS = {"192.0.2.10:30415": "orch", "192.0.2.10:30461": "clm", "192.0.2.10:30477": "dcm"}
HOSTS["192.0.2.10:30495"] = "wfm"


def short(request: httpx.Request) -> tuple[str, str]:
    url = urlsplit(str(request.url))
    assert url.path.startswith("/v2/")
    return request.method, f"{HOSTS[url.netloc]}/{url.path[4:]}"


def test_steps_00_to_05_send_the_seed_sequence_with_the_remote_config(
    in_intents: Path, tmp_path: Path
) -> None:
    package_samples(DEFAULT_SAMPLES_DIR)  # values name ../apps/build/*.tgz
    values = write_values_file(
        tmp_path / "values.yaml",
        {
            "KubeConfig1": "kubeconfigs/local-cluster1.yaml",
            "KubeConfig2": INTENTS / "kubeconfigs/local-cluster2.yaml",
        },
        base=INTENTS / "values-remote.yaml",
    )
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        request.read()
        requests.append(request)
        return httpx.Response(202 if request.url.path.endswith(("instantiate", "approve")) else 201)

    config = EmcoctlConfig.load(INTENTS / "emco-cfg-remote.yaml")
    client = new_http_client(transport=httpx.MockTransport(answer))
    runner = Runner(EmcoHttp(client, config), out=io.StringIO())
    for step in STEPS[:6]:
        result = runner.run(Verb.APPLY, read_resources(INTENTS / step, values))
        assert result.succeeded, step
    assert [short(r) for r in requests] == EXPECTED_APPLY
    multipart = [r for r in requests if r.headers["content-type"].startswith("multipart/")]
    assert len(multipart) == 4  # two kubeconfigs, the chart, the profile


def test_get_and_delete_of_the_dig_steps(in_intents: Path) -> None:
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200)

    config = EmcoctlConfig.load(INTENTS / "emco-cfg-remote.yaml")
    runner = Runner(
        EmcoHttp(new_http_client(transport=httpx.MockTransport(answer)), config), out=io.StringIO()
    )
    runner.run(Verb.GET, resources("06.get-workflow-status.yaml", "values-remote.yaml"))
    runner.run(Verb.DELETE, resources("03.instantiate-dig.yaml", "values-remote.yaml"))
    runner.run(Verb.DELETE, resources("02.define-app-dig.yaml", "values-remote.yaml"))
    urls = [(r.method, str(r.url)) for r in requests]
    assert urls[0] == (
        "GET",
        f"http://192.0.2.10:30495/v2/{DIG}/temporal-workflow-intents/migrate-to-cluster2/status"
        "?temporalServer=192.0.2.20:7233&workflowID=migrate-to-cluster2"
        "&queryType=current-state&runDescribeWfExec=false",
    )
    assert urls[1] == ("POST", f"http://192.0.2.10:30415/v2/{DIG}/terminate")
    assert [u[0] for u in urls[2:]] == ["DELETE"] * 8
    assert urls[-1] == (
        "DELETE",
        "http://192.0.2.10:30415/v2/projects/proj1/composite-apps/hello-capp/v1",
    )


# --------------------------------------------------------------------------- helpers


def test_write_values_file_overrides_and_absolutizes_paths(tmp_path: Path) -> None:
    out = write_values_file(
        tmp_path / "v.yaml", {"EmcoURL": "http://127.0.0.1:41234", "WfClientPort": 41235}
    )
    values = yaml.safe_load(out.read_text())
    assert values["EmcoURL"] == "http://127.0.0.1:41234"
    assert values["WfClientPort"] == 41235
    assert Path(values["KubeConfig1"]).is_absolute()
    assert Path(values["KubeConfig1"]).is_file()
    assert values["AppChart"] == str((INTENTS / "../apps/build/hello-edge.tgz").resolve())
    with pytest.raises(SamplesError, match="unknown values key 'EmcoUrl'"):
        write_values_file(tmp_path / "w.yaml", {"EmcoUrl": "x"})


def test_write_config_file_routes_every_service(tmp_path: Path) -> None:
    config = find_config(str(write_config_file(tmp_path / "cfg.yaml", "http://127.0.0.1:41234")))
    for service in Service:
        assert config.base_url(service) == "http://127.0.0.1:41234/v2"
    with pytest.raises(SamplesError):
        write_config_file(tmp_path / "bad.yaml", "127.0.0.1:41234")


def test_module_entry_point_packages_and_prints_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert samples_main([str(DEFAULT_SAMPLES_DIR), str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"hello-edge: {tmp_path / 'hello-edge.tgz'}",
        f"hello-edge-profile: {tmp_path / 'hello-edge-profile.tgz'}",
    ]
    assert samples_main(["--help"]) == 2
    assert samples_main([str(tmp_path)]) == 1
