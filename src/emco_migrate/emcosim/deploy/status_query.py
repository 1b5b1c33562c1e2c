"""The query string of ``GET B/status`` (contract section 11), parsed like `url.ParseQuery`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import parse_qsl

from emco_migrate.emcosim.deploy.placement import ClusterName
from emco_migrate.emcosim.errors import ModuleError

# Kubernetes label values (max 63), non-empty: the rule for status filters.
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


class StatusMode(StrEnum):
    """Which data the report shows (``type=`` rsync|cluster, ``status=`` deployed|ready)."""

    RSYNC = "rsync"
    CLUSTER = "cluster"
    DEPLOYED = "deployed"
    READY = "ready"

    @property
    def legacy(self) -> bool:
        """The deprecated ``type=`` family (keys status/rsyncStatus, cluster readyStatus)."""
        return self in (StatusMode.RSYNC, StatusMode.CLUSTER)

    @property
    def with_readiness(self) -> bool:
        """Whether the cluster monitor's readiness is reported."""
        return self in (StatusMode.CLUSTER, StatusMode.READY)


class Output(StrEnum):
    """How much of each resource is shown."""

    SUMMARY = "summary"
    ALL = "all"
    DETAIL = "detail"


class ListMode(StrEnum):
    """The list answers, by precedence."""

    APPS = "apps"
    CLUSTERS = "clusters"
    RESOURCES = "resources"


@dataclass(frozen=True)
class StatusQuery:
    """A validated status query."""

    mode: StatusMode = StatusMode.RSYNC
    output: Output = Output.ALL
    instance: str | None = None
    apps: list[str] = field(default_factory=list)
    clusters: list[ClusterName] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    list_mode: ListMode | None = None

    @classmethod
    def parse(cls, raw_query: str) -> StatusQuery:
        """Validate the query; raises `ModuleError` with EMCO's 400 texts."""
        params: dict[str, list[str]] = {}
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            params.setdefault(key, []).append(value)
        mode = StatusMode.RSYNC
        if "type" in params:
            if params["type"][0] not in ("rsync", "cluster"):
                raise ModuleError("Invalid query type")
            mode = StatusMode(params["type"][0])
        if "status" in params:
            if params["status"][0] not in ("ready", "deployed"):
                raise ModuleError("Invalid query status")
            mode = StatusMode(params["status"][0])
        output = params.get("output", ["all"])[0]
        if output not in {o.value for o in Output}:
            raise ModuleError("Invalid query output")
        instance = params.get("instance", [None])[0]
        if instance is not None and not instance:
            raise ModuleError("Invalid query instance")
        apps = params.get("app", [])
        if not all(_valid(a) for a in apps):
            raise ModuleError("Invalid app query")
        clusters = [_cluster(c) for c in params.get("cluster", [])]
        resources = params.get("resource", [])
        if not all(_valid(r) for r in resources):
            raise ModuleError("Invalid resources query")
        list_mode = next((m for m in ListMode if m.value in params), None)
        return cls(mode, Output(output), instance, apps, clusters, resources, list_mode)


def _valid(value: str) -> bool:
    return len(value) <= 63 and _LABEL_VALUE.match(value) is not None


def _cluster(value: str) -> ClusterName:
    parts = value.split("+")
    if len(parts) != 2 or not all(_valid(p) for p in parts):
        raise ModuleError("Invalid cluster query")
    return ClusterName(parts[0], parts[1])
