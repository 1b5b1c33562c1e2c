"""The Helm charts, through the real Helm binary and the Kubernetes schemas."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from .conftest import CHARTS, Helm, pyproject

Render = Callable[..., list[dict[str, Any]]]

VALUES_DIR = Path(__file__).parent / "values"
CHART_NAMES = ("worker", "workflowclient")
# The seed's demo: `helm install demo1 worker -n demo`, `helm install demo workflowclient -n demo`.
RELEASES = {"worker": "demo1", "workflowclient": "demo"}
UID = 10001

# Oldest Kubernetes the charts declare (kubeVersion) and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.25.0", kubernetes_validate.latest_version())

# What temporalio.envconfig reads, plus the seed's TEMPORAL_SERVER.
TEMPORAL_ENV = {
    "TEMPORAL_ADDRESS",
    "TEMPORAL_NAMESPACE",
    "TEMPORAL_API_KEY",
    "TEMPORAL_TLS",
    "TEMPORAL_TLS_CLIENT_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_KEY_PATH",
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
    "TEMPORAL_TLS_SERVER_NAME",
    "TEMPORAL_SERVER",
}
TLS_PATH_ENV = {
    "TEMPORAL_TLS_CLIENT_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_KEY_PATH",
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
}


def tls_values(chart: str) -> Path:
    return CHARTS / chart / "ci" / "tls-apikey-values.yaml"


# (chart, extra values files): the defaults, the full TLS + API key configuration, and that
# plus every optional setting.
CASES = [
    pytest.param(chart, values, id=f"{chart}-{label}")
    for chart in CHART_NAMES
    for label, values in (
        ("defaults", ()),
        ("tls-apikey", (tls_values(chart),)),
        ("all-options", (tls_values(chart), VALUES_DIR / "all-options.yaml")),
    )
]


def only(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, got {[d['kind'] for d in docs]}"
    return found[0]


def container_of(docs: list[dict[str, Any]]) -> dict[str, Any]:
    pod_spec = only(docs, "Deployment")["spec"]["template"]["spec"]
    containers: list[dict[str, Any]] = pod_spec["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def arg_after(args: list[str], flag: str) -> str:
    assert flag in args, args
    return args[args.index(flag) + 1]


@pytest.mark.parametrize(("chart", "values"), CASES)
def test_helm_lint_strict_passes(helm: Helm, chart: str, values: tuple[Path, ...]) -> None:
    result = helm.lint(chart, values=values)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[ERROR]" not in result.stdout and "[WARNING]" not in result.stdout


@pytest.mark.parametrize(("chart", "values"), CASES)
def test_manifests_are_valid_kubernetes_objects(
    render: Render, chart: str, values: tuple[Path, ...]
) -> None:
    docs = render(chart, release=RELEASES[chart], values=values)
    assert docs
    for doc in docs:
        for version in KUBERNETES_VERSIONS:
            # Raises on an invalid object, and on a kind or apiVersion it has no schema for.
            kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize(("chart", "values"), CASES)
def test_pods_run_locked_down(render: Render, chart: str, values: tuple[Path, ...]) -> None:
    docs = render(chart, release=RELEASES[chart], values=values)
    pod = only(docs, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == UID
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        assert not pod.get(key)

    container = container_of(docs)
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["runAsUser"] == UID
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert not sc.get("privileged")
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}

    # The only writable place is /tmp, an emptyDir.
    volumes = {v["name"]: v for v in pod["volumes"]}
    tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")
    assert "emptyDir" in volumes[tmp["name"]]
    for mount in container["volumeMounts"]:
        if mount["mountPath"] != "/tmp":
            assert mount.get("readOnly") is True, mount

    assert container["resources"]["requests"]["memory"]
    assert container["resources"]["limits"]["memory"]


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_image_defaults_to_the_chart_app_version_with_no_registry(
    render: Render, chart: str
) -> None:
    meta = yaml.safe_load((CHARTS / chart / "Chart.yaml").read_text())
    assert meta["appVersion"] == pyproject()["project"]["version"]
    container = container_of(render(chart))
    assert container["image"] == f"emco-migrate-{chart}:{meta['appVersion']}"

    pinned = container_of(
        render(
            chart,
            set_values=[
                "image.repository=registry.example/emco/x",
                f"image.digest=sha256:{'a' * 64}",
            ],
        )
    )
    assert pinned["image"] == f"registry.example/emco/x@sha256:{'a' * 64}"


def temporal_names(env: dict[str, Any]) -> set[str]:
    return {name for name in env if name.startswith("TEMPORAL_")}


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_default_temporal_environment(render: Render, chart: str) -> None:
    env = env_of(container_of(render(chart)))
    assert temporal_names(env) == {"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_SERVER"}
    assert env["TEMPORAL_ADDRESS"]["value"] == env["TEMPORAL_SERVER"]["value"]
    assert re.fullmatch(r"[^:\s]+:\d+", env["TEMPORAL_ADDRESS"]["value"])
    assert env["TEMPORAL_NAMESPACE"]["value"] == "default"

    custom = env_of(
        container_of(
            render(
                chart,
                set_values=["temporal.address=temporal.example:7234", "temporal.namespace=emco"],
            )
        )
    )
    assert custom["TEMPORAL_ADDRESS"]["value"] == "temporal.example:7234"
    assert custom["TEMPORAL_SERVER"]["value"] == "temporal.example:7234"
    assert custom["TEMPORAL_NAMESPACE"]["value"] == "emco"


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_task_queue_is_passed_only_when_set(render: Render, chart: str) -> None:
    # Unset: the processes use MIGRATION_TASK_Q. Set: both processes (and the workflow
    # client's --exec-dir clients, which inherit the environment) use the same queue.
    assert "EMCO_MIGRATE_TASK_QUEUE" not in env_of(container_of(render(chart)))
    env = env_of(container_of(render(chart, set_values=["taskQueue=emco-migrations-eu"])))
    assert env["EMCO_MIGRATE_TASK_QUEUE"] == {
        "name": "EMCO_MIGRATE_TASK_QUEUE",
        "value": "emco-migrations-eu",
    }


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_log_format_and_level_reach_the_processes(render: Render, chart: str) -> None:
    env = env_of(container_of(render(chart)))
    assert env["EMCO_MIGRATE_LOG_FORMAT"]["value"] == "text"
    assert env["EMCO_MIGRATE_LOG_LEVEL"]["value"] == "INFO"
    env = env_of(container_of(render(chart, set_values=["logFormat=json", "logLevel=DEBUG"])))
    assert env["EMCO_MIGRATE_LOG_FORMAT"]["value"] == "json"
    assert env["EMCO_MIGRATE_LOG_LEVEL"]["value"] == "DEBUG"


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_tls_files_and_api_key_come_from_secrets(render: Render, chart: str) -> None:
    docs = render(chart, values=[tls_values(chart)])
    container = container_of(docs)
    env = env_of(container)
    assert temporal_names(env) == TEMPORAL_ENV
    assert env["TEMPORAL_TLS"]["value"] == "true"
    assert env["TEMPORAL_TLS_SERVER_NAME"]["value"] == "emco.a1b2c.tmprl.cloud"
    # The API key is never a literal in the manifest.
    assert "value" not in env["TEMPORAL_API_KEY"]
    assert env["TEMPORAL_API_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "temporal-api-key",
        "key": "api-key",
    }

    pod = only(docs, "Deployment")["spec"]["template"]["spec"]
    tls_volume = next(v for v in pod["volumes"] if "secret" in v)
    secret = tls_volume["secret"]
    assert secret["secretName"] == "temporal-client-tls"
    assert secret["defaultMode"] == 0o440
    mount = next(m for m in container["volumeMounts"] if m["name"] == tls_volume["name"])
    assert mount["readOnly"] is True
    files = {f"{mount['mountPath']}/{item['path']}": item["key"] for item in secret["items"]}
    assert {env[name]["value"] for name in TLS_PATH_ENV} == set(files)
    assert files[env["TEMPORAL_TLS_CLIENT_CERT_PATH"]["value"]] == "tls.crt"
    assert files[env["TEMPORAL_TLS_CLIENT_KEY_PATH"]["value"]] == "tls.key"
    assert files[env["TEMPORAL_TLS_SERVER_CA_CERT_PATH"]["value"]] == "ca.crt"


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_api_key_with_system_cas_needs_no_tls_secret(render: Render, chart: str) -> None:
    docs = render(
        chart,
        set_values=[
            "temporal.tls.enabled=true",
            "temporal.tls.clientCertKey=",
            "temporal.tls.clientKeyKey=",
            "temporal.tls.serverCaCertKey=",
            "temporal.apiKey.secretName=cloud-key",
        ],
    )
    env = env_of(container_of(docs))
    assert env["TEMPORAL_TLS"]["value"] == "true"
    assert not TLS_PATH_ENV & set(env)
    assert env["TEMPORAL_API_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "cloud-key"
    pod = only(docs, "Deployment")["spec"]["template"]["spec"]
    assert not any("secret" in v for v in pod["volumes"])


@pytest.mark.parametrize("chart", CHART_NAMES)
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (["temporal.tls.secretName=tls"], "temporal.tls.enabled is false"),
        (["temporal.tls.enabled=true"], "needs temporal.tls.secretName"),
        (
            [
                "temporal.tls.enabled=true",
                "temporal.tls.secretName=tls",
                "temporal.tls.clientKeyKey=",
            ],
            "go together",
        ),
    ],
)
def test_inconsistent_tls_settings_fail(
    helm: Helm, chart: str, settings: list[str], message: str
) -> None:
    result = helm.template(chart, set_values=settings)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize("chart", CHART_NAMES)
@pytest.mark.parametrize(
    ("values_file", "complaint"),
    [
        ("typo-key.yaml", "additional properties 'adress' not allowed"),
        ("top-level-typo.yaml", "additional properties 'replicas' not allowed"),
        ("wrong-type.yaml", "/replicaCount': got string, want integer"),
    ],
)
def test_values_schema_rejects_broken_values(
    helm: Helm, chart: str, values_file: str, complaint: str
) -> None:
    values = [VALUES_DIR / values_file]
    for result in (helm.template(chart, values=values), helm.lint(chart, values=values)):
        assert result.returncode != 0
        output = result.stdout + result.stderr
        assert "values don't meet the specifications of the schema" in output
        assert complaint in output


@pytest.mark.parametrize("chart", CHART_NAMES)
@pytest.mark.parametrize(
    "values_text",
    [
        "temporal:\n  address: http://temporal:7233\n",
        "temporal:\n  address: temporal\n",
        "image:\n  tag: 1.10\n",  # YAML reads a float, 1.1: the tag must be quoted
        "replicaCount: -1\n",
        'taskQueue: "tab\\there"\n',  # a control character: no worker could be told it
        f"taskQueue: {'q' * 256}\n",
        "logFormat: yaml\n",  # the processes would refuse it at start and crash-loop
        "logLevel: verbose\n",
    ],
)
def test_values_schema_rejects_malformed_settings(
    helm: Helm, tmp_path: Path, chart: str, values_text: str
) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(values_text)
    result = helm.template(chart, values=[values])
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr


@pytest.mark.parametrize("chart", CHART_NAMES)
def test_accepts_globals_from_a_parent_chart(render: Render, chart: str) -> None:
    assert render(chart, set_values=["global.imageRegistry=registry.example"])


def test_charts_share_their_common_templates_and_schema_definitions() -> None:
    worker, client = (CHARTS / name for name in CHART_NAMES)
    shared = "templates/_emco-migrate.tpl"
    assert (worker / shared).read_text() == (client / shared).read_text()
    schemas = [json.loads((c / "values.schema.json").read_text()) for c in (worker, client)]
    assert schemas[0]["definitions"] == schemas[1]["definitions"]
    for chart_dir, schema in zip((worker, client), schemas, strict=True):
        assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
        assert schema["additionalProperties"] is False
        # Every setting the schema allows is in values.yaml, with its default and comment.
        values = yaml.safe_load((chart_dir / "values.yaml").read_text())
        assert set(schema["properties"]) - {"global"} == set(values)


# --- worker ---------------------------------------------------------------------------


def test_worker_is_a_deployment_only(render: Render) -> None:
    docs = render("worker", release="demo1")
    assert [d["kind"] for d in docs] == ["Deployment"]
    container = container_of(docs)
    assert "ports" not in container
    assert "livenessProbe" not in container and "readinessProbe" not in container
    assert only(docs, "Deployment")["metadata"]["name"] == "demo1-worker"


def test_worker_metrics_service_only_when_enabled(render: Render) -> None:
    docs = render(
        "worker", release="demo1", set_values=["metrics.enabled=true", "metrics.port=9100"]
    )
    assert sorted(d["kind"] for d in docs) == ["Deployment", "Service"]
    container = container_of(docs)
    assert arg_after(container["args"], "--metrics-port") == "9100"
    assert container["ports"] == [{"name": "metrics", "containerPort": 9100, "protocol": "TCP"}]
    service = only(docs, "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"
    assert (
        service["spec"]["selector"] == only(docs, "Deployment")["spec"]["selector"]["matchLabels"]
    )


def test_worker_service_monitor_scrapes_the_metrics_service(render: Render) -> None:
    docs = render(
        "worker",
        release="demo1",
        namespace="emco",
        set_values=[
            "metrics.enabled=true",
            "metrics.serviceMonitor.enabled=true",
            "metrics.serviceMonitor.interval=15s",
            "metrics.serviceMonitor.labels.release=kube-prometheus",
        ],
    )
    assert sorted(d["kind"] for d in docs) == ["Deployment", "Service", "ServiceMonitor"]
    monitor, service = only(docs, "ServiceMonitor"), only(docs, "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus"
    selected = monitor["spec"]["selector"]["matchLabels"]
    assert selected.items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["emco"]}
    assert monitor["spec"]["endpoints"] == [
        {"port": service["spec"]["ports"][0]["name"], "path": "/metrics", "interval": "15s"}
    ]


def test_worker_service_monitor_needs_the_metrics(helm: Helm) -> None:
    result = helm.template("worker", set_values=["metrics.serviceMonitor.enabled=true"])
    assert result.returncode != 0
    assert "metrics.serviceMonitor.enabled needs metrics.enabled" in result.stderr


@pytest.mark.parametrize(
    ("settings", "drain", "grace"),
    [
        ([], 30, 45),
        (["drainTimeoutSeconds=120"], 120, 135),
        (["drainTimeoutSeconds=10", "terminationGracePeriodSeconds=60"], 10, 60),
    ],
)
def test_worker_grace_period_outlasts_the_drain(
    render: Render, settings: list[str], drain: int, grace: int
) -> None:
    docs = render("worker", set_values=settings)
    pod = only(docs, "Deployment")["spec"]["template"]["spec"]
    assert arg_after(pod["containers"][0]["args"], "--drain-timeout") == str(drain)
    assert pod["terminationGracePeriodSeconds"] == grace
    assert grace > drain


def test_worker_rejects_a_grace_period_within_the_drain(helm: Helm) -> None:
    result = helm.template(
        "worker", set_values=["drainTimeoutSeconds=60", "terminationGracePeriodSeconds=60"]
    )
    assert result.returncode != 0
    assert "must be greater than drainTimeoutSeconds" in result.stderr


def test_worker_replicas_and_resources(render: Render) -> None:
    docs = render(
        "worker",
        set_values=["replicaCount=3", "resources.limits.memory=1Gi", "resources.requests.cpu=250m"],
    )
    deployment = only(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 3
    resources = container_of(docs)["resources"]
    assert resources["limits"]["memory"] == "1Gi"
    assert resources["requests"]["cpu"] == "250m"


# --- workflow client ------------------------------------------------------------------


def test_workflowclient_service_is_the_name_emco_calls(render: Render) -> None:
    docs = render("workflowclient", release="demo", namespace="demo")
    assert sorted(d["kind"] for d in docs) == ["Deployment", "Service"]
    service = only(docs, "Service")
    # EMCO's intent: clientEndpointName demo-workflowclient.demo.svc.cluster.local, port 9090.
    assert service["metadata"]["name"] == "demo-workflowclient"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 9090, "targetPort": "http", "protocol": "TCP"}
    ]
    assert (
        service["spec"]["selector"] == only(docs, "Deployment")["spec"]["selector"]["matchLabels"]
    )
    container = container_of(docs)
    assert container["ports"] == [{"name": "http", "containerPort": 9090, "protocol": "TCP"}]
    assert arg_after(container["args"], "--port") == "9090"
    assert arg_after(container["args"], "--host") == "0.0.0.0"
    assert arg_after(container["args"], "--exec-dir") == "/opt/emco"


@pytest.mark.parametrize(
    ("values", "scheme", "tls_config"),
    [
        ((), "http", None),
        ((tls_values("workflowclient"),), "https", {"ca": {"secret": {"name": "ca", "key": "c"}}}),
    ],
)
def test_workflowclient_service_monitor_scrapes_the_service_port(
    render: Render, values: tuple[Path, ...], scheme: str, tls_config: dict[str, Any] | None
) -> None:
    settings = ["metrics.serviceMonitor.enabled=true"]
    if tls_config is not None:
        settings += [
            "tls.existingSecret=server-tls",
            "metrics.serviceMonitor.tlsConfig.ca.secret.name=ca",
            "metrics.serviceMonitor.tlsConfig.ca.secret.key=c",
        ]
    docs = render("workflowclient", values=values, set_values=settings)
    monitor, service = only(docs, "ServiceMonitor"), only(docs, "Service")
    selected = monitor["spec"]["selector"]["matchLabels"]
    assert selected.items() <= service["metadata"]["labels"].items()
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["port"] == service["spec"]["ports"][0]["name"] == scheme
    assert (endpoint["path"], endpoint["scheme"]) == ("/metrics", scheme)
    assert endpoint.get("tlsConfig") == tls_config


def test_workflowclient_probes(render: Render) -> None:
    container = container_of(render("workflowclient"))
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}


def test_workflowclient_exec_timeout_is_passed_when_set(render: Render) -> None:
    args = container_of(render("workflowclient"))["args"]
    assert "--exec-timeout" not in args
    args = container_of(render("workflowclient", set_values=["httpServer.execTimeoutSeconds=120"]))[
        "args"
    ]
    assert arg_after(args, "--exec-timeout") == "120"


def test_workflowclient_notes_tell_the_intent_endpoint(helm: Helm) -> None:
    result = helm.run(
        "install", "demo", str(CHARTS / "workflowclient"), "--namespace", "demo", "--dry-run=client"
    )
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    assert "clientEndpointName: demo-workflowclient.demo.svc.cluster.local" in notes
    assert "clientEndpointPort: 9090" in notes


@pytest.mark.parametrize(
    ("settings", "in_flight", "rate"),
    [([], "8", "0"), (["emco.maxInFlight=16", "emco.requestsPerSecond=50"], "16", "50")],
)
def test_worker_caps_its_emco_requests(
    render: Render, settings: list[str], in_flight: str, rate: str
) -> None:
    args = only(render("worker", set_values=settings), "Deployment")["spec"]["template"]["spec"][
        "containers"
    ][0]["args"]
    assert arg_after(args, "--emco-max-in-flight") == in_flight
    assert arg_after(args, "--emco-requests-per-second") == rate


@pytest.mark.parametrize("setting", ["emco.maxInFlight=0", "emco.requestsPerSecond=-1"])
def test_worker_refuses_emco_caps_it_cannot_use(helm: Helm, setting: str) -> None:
    result = helm.template("worker", set_values=[setting])
    assert result.returncode != 0
    assert "emco" in result.stderr
