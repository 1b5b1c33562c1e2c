"""The workflow client chart's locked door (token, TLS, mutual TLS) and both charts'
emcoURL allowlist, through the real Helm binary and the Kubernetes schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from .conftest import CHARTS, Helm
from .test_helm_charts import KUBERNETES_VERSIONS, Render, arg_after, container_of, only

LOCKED_DOOR = CHARTS / "workflowclient" / "ci" / "locked-door-values.yaml"
TOKEN = ["auth.existingSecret=wfc-token"]
TLS = ["tls.existingSecret=wfc-tls"]
MTLS = [*TLS, "tls.requireClientCert=true"]
URLS = ["http://192.0.2.10:30415", "https://emco.example.com/*"]


def pod_of(docs: list[dict[str, Any]]) -> dict[str, Any]:
    pod: dict[str, Any] = only(docs, "Deployment")["spec"]["template"]["spec"]
    return pod


def secret_file(docs: list[dict[str, Any]], path: str) -> tuple[str, str]:
    """(Secret name, key) of the Secret item mounted read-only at ``path`` in the container."""
    pod = pod_of(docs)
    volumes = {v["name"]: v for v in pod["volumes"]}
    for mount in container_of(docs)["volumeMounts"]:
        directory = mount["mountPath"].rstrip("/") + "/"
        if path.startswith(directory) and "secret" in volumes[mount["name"]]:
            assert mount["readOnly"] is True
            secret = volumes[mount["name"]]["secret"]
            assert secret["defaultMode"] == 0o440
            item = next(i for i in secret["items"] if i["path"] == path[len(directory) :])
            return secret["secretName"], item["key"]
    raise AssertionError(f"nothing mounts {path}")


def allowed_urls(args: list[str]) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args) if arg == "--allow-emco-url"]


@pytest.mark.parametrize(
    ("values", "settings"),
    [
        pytest.param((LOCKED_DOOR,), [], id="locked-door"),
        pytest.param((), TOKEN, id="token"),
        pytest.param((), TLS, id="tls"),
        pytest.param((), MTLS, id="mtls"),
    ],
)
def test_locked_door_manifests_lint_and_are_valid_kubernetes_objects(
    helm: Helm, render: Render, values: tuple[Path, ...], settings: list[str]
) -> None:
    lint = helm.run(
        "lint", "--strict", str(CHARTS / "workflowclient"),
        *[arg for path in values for arg in ("--values", str(path))],
        *[arg for item in settings for arg in ("--set", item)],
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "[WARNING]" not in lint.stdout
    for doc in render("workflowclient", values=values, set_values=settings):
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(doc, version, strict=True)


def test_default_is_plain_http_without_a_token(render: Render) -> None:
    docs = render("workflowclient")
    args = container_of(docs)["args"]
    for flag in ("--auth-token-file", "--tls-cert-file", "--tls-key-file", "--tls-client-ca-file"):
        assert flag not in args
    assert not allowed_urls(args)
    assert not any("secret" in volume for volume in pod_of(docs)["volumes"])


def test_token_comes_from_the_secret_as_a_file(render: Render) -> None:
    docs = render("workflowclient", set_values=[*TOKEN, "auth.secretKey=bearer"])
    container = container_of(docs)

    token_file = arg_after(container["args"], "--auth-token-file")

    assert secret_file(docs, token_file) == ("wfc-token", "bearer")
    assert not any(
        "wfc-token" in str(entry.get("valueFrom", "")) for entry in container.get("env", [])
    )
    # The probes stay plain GETs: the token guards POST /invoke only.
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}


def test_tls_serves_https_and_probes_over_https(render: Render) -> None:
    docs = render("workflowclient", set_values=TLS)
    container = container_of(docs)
    args = container["args"]

    assert secret_file(docs, arg_after(args, "--tls-cert-file")) == ("wfc-tls", "tls.crt")
    assert secret_file(docs, arg_after(args, "--tls-key-file")) == ("wfc-tls", "tls.key")
    assert "--tls-client-ca-file" not in args
    assert container["ports"] == [{"name": "https", "containerPort": 9090, "protocol": "TCP"}]
    assert only(docs, "Service")["spec"]["ports"] == [
        {"name": "https", "port": 9090, "targetPort": "https", "protocol": "TCP"}
    ]
    assert container["livenessProbe"]["httpGet"] == {
        "path": "/healthz",
        "port": "https",
        "scheme": "HTTPS",
    }
    assert container["readinessProbe"]["httpGet"] == {
        "path": "/readyz",
        "port": "https",
        "scheme": "HTTPS",
    }


def test_mutual_tls_requires_client_certificates_and_probes_by_tcp(render: Render) -> None:
    docs = render("workflowclient", set_values=[*MTLS, "tls.clientCaKey=clients-ca.crt"])
    container = container_of(docs)

    ca_file = arg_after(container["args"], "--tls-client-ca-file")

    assert secret_file(docs, ca_file) == ("wfc-tls", "clients-ca.crt")
    # The kubelet has no client certificate, so an HTTPS probe could never pass.
    for probe in ("livenessProbe", "readinessProbe"):
        assert "httpGet" not in container[probe]
        assert container[probe]["tcpSocket"] == {"port": "https"}


def test_locked_door_values_give_every_flag(render: Render) -> None:
    docs = render("workflowclient", values=[LOCKED_DOOR])
    args = container_of(docs)["args"]

    assert secret_file(docs, arg_after(args, "--auth-token-file")) == (
        "workflowclient-token",
        "bearer-token",
    )
    assert secret_file(docs, arg_after(args, "--tls-client-ca-file")) == (
        "workflowclient-tls",
        "ca.crt",
    )
    assert allowed_urls(args) == URLS


def test_client_certificates_without_a_tls_secret_fail(helm: Helm) -> None:
    result = helm.template("workflowclient", set_values=["tls.requireClientCert=true"])

    assert result.returncode != 0
    assert "tls.requireClientCert needs tls.existingSecret" in result.stderr


@pytest.mark.parametrize("chart", ["worker", "workflowclient"])
def test_allow_emco_urls_become_repeated_flags(render: Render, chart: str) -> None:
    settings = [f"allowEmcoUrls[{i}]={url}" for i, url in enumerate(URLS)]
    args = container_of(render(chart, set_values=settings))["args"]

    assert allowed_urls(args) == URLS
    assert args.count("--allow-emco-url") == len(URLS)


@pytest.mark.parametrize(
    ("chart", "values_text"),
    [
        ("worker", "allowEmcoUrls: http://192.0.2.10:30415\n"),
        ("workflowclient", "allowEmcoUrls: ['']\n"),
        ("workflowclient", "allowEmcoUrls: ['http://a b']\n"),
        ("workflowclient", "auth:\n  secretName: wfc-token\n"),
        ("workflowclient", "tls:\n  requireClientCert: 'yes'\n"),
        ("workflowclient", "tls:\n  certKey: 'tls crt'\n"),
    ],
)
def test_values_schema_rejects_malformed_locked_door_settings(
    helm: Helm, tmp_path: Path, chart: str, values_text: str
) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(values_text)

    result = helm.template(chart, values=[values])

    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr


def test_binding_to_the_pod_ip_renders(render: Render) -> None:
    # The recipe of docs/Migrate_Workflow.md: the kubelet expands $(POD_IP) in args.
    docs = render(
        "workflowclient",
        set_values=[
            "httpServer.host=$(POD_IP)",
            "extraEnv[0].name=POD_IP",
            "extraEnv[0].valueFrom.fieldRef.fieldPath=status.podIP",
        ],
    )
    container = container_of(docs)

    assert arg_after(container["args"], "--host") == "$(POD_IP)"
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(only(docs, "Deployment"), version, strict=True)


@pytest.mark.parametrize(
    ("settings", "expected", "absent"),
    [
        ([], ["http://", "POST /invoke is unauthenticated", "may call any emcoURL"], []),
        (
            [*MTLS, *TOKEN, "allowEmcoUrls[0]=http://x"],
            [
                "https://demo-workflowclient.demo.svc.cluster.local:9090/invoke/",
                "HTTPS with a client certificate and the bearer token in Secret wfc-token",
                "sends no Authorization header",
            ],
            ["unauthenticated", "may call any emcoURL"],
        ),
    ],
)
def test_workflowclient_notes_say_who_may_call(
    helm: Helm, settings: list[str], expected: list[str], absent: list[str]
) -> None:
    args = [arg for item in settings for arg in ("--set", item)]
    result = helm.run(
        "install", "demo", str(CHARTS / "workflowclient"), "--namespace", "demo",
        "--dry-run=client", *args,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    for text in expected:
        assert text in notes
    for text in absent:
        assert text not in notes
