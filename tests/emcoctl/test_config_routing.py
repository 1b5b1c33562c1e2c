"""Configuration files and the routing of anchors to EMCO services (emcoctl's GetURL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emco_migrate.emcoctl.config import (
    ConfigError,
    EmcoctlConfig,
    Endpoint,
    Service,
    find_config,
)
from emco_migrate.emcoctl.routing import (
    AnchorError,
    last_segment,
    resource_anchor,
    service_for,
    terminate_anchor,
    wants_json_metadata,
)

DIG = "projects/p1/composite-apps/ca/v1/deployment-intent-groups/dig1"


@pytest.mark.parametrize(
    ("anchor", "service"),
    [
        ("controllers", Service.ORCHESTRATOR),
        ("cluster-providers", Service.CLM),
        ("cluster-providers/p1/clusters", Service.CLM),
        ("cluster-providers/p1/clusters/c1/labels", Service.CLM),
        ("cluster-providers/p1/clusters/c1/networks", Service.NCM),
        ("cluster-providers/p1/clusters/c1/provider-networks", Service.NCM),
        ("cluster-providers/p1/clusters/c1/apply", Service.NCM),
        ("cluster-providers/p1/clusters/c1/terminate", Service.NCM),
        ("cluster-providers/p1/clusters/c1/stop", Service.NCM),
        ("cluster-providers/p1/clusters/c1/status?output=all", Service.NCM),
        ("cluster-providers/p1/ca-certs", Service.CACERT),
        ("clm-controllers", Service.CLM),
        ("projects", Service.ORCHESTRATOR),
        ("projects/p1/composite-apps/ca/v1/apps", Service.ORCHESTRATOR),
        ("projects/p1/logical-clouds", Service.DCM),
        ("projects/p1/logical-clouds/lc1/instantiate", Service.DCM),
        (DIG, Service.ORCHESTRATOR),
        (f"{DIG}/instantiate", Service.ORCHESTRATOR),
        (f"{DIG}/generic-placement-intents/g/app-intents", Service.ORCHESTRATOR),
        (f"{DIG}/temporal-workflow-intents", Service.WORKFLOWMGR),
        (f"{DIG}/temporal-workflow-intents/w1/start", Service.WORKFLOWMGR),
        (f"{DIG}/temporal-workflow-intents/w1/status?workflowID=x", Service.WORKFLOWMGR),
        (f"{DIG}/generic-k8s-intents", Service.GAC),
        (f"{DIG}/traffic-group-intents", Service.DTC),
    ],
)
def test_routing_follows_emcoctl(anchor: str, service: Service) -> None:
    assert service_for(anchor) is service


@pytest.mark.parametrize("anchor", ["", "/projects", "v2/projects", "unknown/x"])
def test_unroutable_anchors(anchor: str) -> None:
    with pytest.raises(AnchorError, match="invalid anchor"):
        service_for(anchor)


def test_resource_anchor_suffix_rules() -> None:
    assert resource_anchor("projects", "p1", "", "") == "projects/p1"
    assert resource_anchor("projects/p1/composite-apps", "ca", "", "v1") == (
        "projects/p1/composite-apps/ca/v1"
    )
    labels = "cluster-providers/p/clusters/c/labels"
    assert resource_anchor(labels, "", "edge", "") == f"{labels}/edge"
    assert resource_anchor(f"{DIG}/approve", "", "", "") == f"{DIG}/approve"


def test_action_segment_ignores_the_query_string() -> None:
    assert last_segment(f"{DIG}/temporal-workflow-intents/w/status?a=1&b=x/y") == "status"
    assert terminate_anchor(f"{DIG}/instantiate") == f"{DIG}/terminate"
    assert terminate_anchor("projects/p/logical-clouds/lc/instantiate") == (
        "projects/p/logical-clouds/lc/terminate"
    )


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        ("projects/p/composite-apps/ca/v1/apps/a1", True),
        ("projects/p/composite-apps/ca/v1/composite-profiles/cp/profiles/pr", True),
        ("cluster-providers/p/clusters/c1", True),
        ("projects/p/composite-apps/ca/v1/apps", False),
        ("projects/p1", False),
        ("cluster-providers/p", False),
    ],
)
def test_accept_json_rule(anchor: str, expected: bool) -> None:
    assert wants_json_metadata(anchor) is expected


def test_defaults_are_emcoctl_ports() -> None:
    config = EmcoctlConfig.defaults()
    assert config.base_url(Service.ORCHESTRATOR) == "http://localhost:9015/v2"
    assert config.base_url(Service.CLM) == "http://localhost:9061/v2"
    assert config.base_url(Service.DCM) == "http://localhost:9077/v2"
    assert config.base_url(Service.WORKFLOWMGR) == "http://localhost:9095/v2"
    assert config.base_url(Service.NCM) == "http://localhost:9081/v2"


def test_config_keys_are_case_insensitive_and_ports_may_be_strings() -> None:
    config = EmcoctlConfig.from_text(
        "Orchestrator: {Host: 10.0.0.1, Port: 30415}\n"
        "clm: {host: 10.0.0.1, port: '30461'}\n"
        "WorkflowMgr: {host: 10.0.0.1, port: 30495, statusPort: 30497}\n"
        "rsync: {host: 10.0.0.1, port: 30431}\n"
        "somethingElse: 1\n"
    )
    assert config.base_url(Service.ORCHESTRATOR) == "http://10.0.0.1:30415/v2"
    assert config.base_url(Service.CLM) == "http://10.0.0.1:30461/v2"
    assert config.base_url(Service.WORKFLOWMGR) == "http://10.0.0.1:30495/v2"


def test_a_config_file_gets_no_defaults() -> None:
    config = EmcoctlConfig.from_text("orchestrator: {host: h, port: 1}\n", Path("cfg.yaml"))
    with pytest.raises(ConfigError, match=r"no host/port for dcm in cfg\.yaml"):
        config.base_url(Service.DCM)


def test_ingress_serves_every_service() -> None:
    config = EmcoctlConfig.from_text(
        "ingress: {host: 127.0.0.1, port: 9015}\norchestrator: {host: h, port: 1}\n"
    )
    for service in Service:
        assert config.base_url(service) == "http://127.0.0.1:9015/v2"


def test_ipv6_hosts_get_brackets() -> None:
    assert Endpoint("::1", 9015).base_url() == "http://[::1]:9015/v2"


@pytest.mark.parametrize(
    "text", ["- a\n", "orchestrator: [1]\n", "orchestrator: {host: h, port: 70000}\n"]
)
def test_bad_config_files(text: str) -> None:
    with pytest.raises(ConfigError):
        EmcoctlConfig.from_text(text)


def test_find_config_reads_the_named_file(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("ingress: {host: h, port: 1}\n")
    assert find_config(str(cfg)).base_url(Service.CLM) == "http://h:1/v2"
    with pytest.raises(ConfigError, match="cannot read configuration file"):
        find_config(str(tmp_path / "missing.yaml"))


def test_find_config_without_a_file_uses_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert find_config(None).source is None
    (tmp_path / ".emco.yaml").write_text("ingress: {host: h, port: 2}\n")
    assert find_config(None).base_url(Service.DCM) == "http://h:2/v2"
