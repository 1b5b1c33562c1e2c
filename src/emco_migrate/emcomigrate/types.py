"""Typed data at the workflow's boundaries: migration parameters and EMCO placement intents."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from emco_migrate.emcomigrate import param_schema
from emco_migrate.emcomigrate.param_schema import (
    DEFAULT_STEP_BUDGET_SECONDS,
    DEFAULT_VERIFY_TIMEOUT_SECONDS,
    DEFAULT_WRITE_SETTLE_SECONDS,
)
from emco_migrate.emcomigrate.param_schema import ParamError as ParamError
from emco_migrate.wire import emco


class Strategy(enum.StrEnum):
    """How the app moves: straight to the target, or via both clusters."""

    DIRECT = "direct"
    MAKE_BEFORE_BREAK = "make-before-break"


@dataclass(frozen=True)
class ClusterRef:
    """A cluster as EMCO names it: provider and cluster name."""

    provider: str
    cluster: str

    def __str__(self) -> str:
        return f"{self.provider}+{self.cluster}"


@dataclass(frozen=True)
class DigRef:
    """Where a deployment intent group lives in EMCO."""

    emco_url: str
    project: str
    composite_app: str
    version: str
    dig: str


@dataclass(frozen=True)
class MigrationParams:
    """The migration request, from ``activityParams["all-activities"]``."""

    dig: DigRef
    target: ClusterRef
    apps: tuple[str, ...] | None = None
    source: ClusterRef | None = None
    dry_run: bool = False
    strategy: Strategy = Strategy.DIRECT
    verify_timeout_seconds: int = DEFAULT_VERIFY_TIMEOUT_SECONDS
    clm_url: str = ""
    dcm_url: str = ""
    step_budget_seconds: int = DEFAULT_STEP_BUDGET_SECONDS
    write_settle_seconds: int = DEFAULT_WRITE_SETTLE_SECONDS

    @classmethod
    def from_activity_params(
        cls,
        activity_params: Mapping[str, Mapping[str, str] | None] | None,
        *,
        strict: bool = True,
    ) -> MigrationParams:
        """Validate the string parameters against `param_schema.PARAMS`; raises
        `ParamError` naming the first bad field. ``strict=False`` (for runs started before
        the schema) leaves unknown keys unread instead of refusing them."""
        value = param_schema.values(activity_params, strict=strict)
        url = value["emcoURL"]
        source = _source(value["sourceClusterProvider"], value["sourceClusterName"])
        return cls(
            dig=DigRef(
                emco_url=url,
                project=value["project"],
                composite_app=value["compositeApp"],
                version=value["compositeAppVersion"],
                dig=value["deploymentIntentGroup"],
            ),
            target=ClusterRef(value["targetClusterProvider"], value["targetClusterName"]),
            apps=value["apps"],
            source=source,
            dry_run=bool(value["dryRun"]),
            strategy=Strategy(value["strategy"]),
            verify_timeout_seconds=value["verifyTimeoutSeconds"],
            clm_url=value["clmURL"] or url,
            dcm_url=value["dcmURL"] or url,
            step_budget_seconds=value["stepBudgetSeconds"],
            write_settle_seconds=value["writeSettleSeconds"],
        )

    @property
    def urls(self) -> dict[str, str]:
        """The EMCO base URLs this migration calls, by parameter name."""
        return {"emcoURL": self.dig.emco_url, "clmURL": self.clm_url, "dcmURL": self.dcm_url}


def _source(provider: str | None, cluster: str | None) -> ClusterRef | None:
    if not provider and not cluster:
        return None
    if not provider or not cluster:
        raise ParamError(
            param_schema.FIELD_PREFIX,
            "sourceClusterProvider and sourceClusterName must be given together",
        )
    return ClusterRef(provider, cluster)


@dataclass(frozen=True)
class AppIntent:
    """An EMCO app placement intent (`.../generic-placement-intents/{gpi}/app-intents/{name}`).

    ``body`` is what EMCO returned, unknown keys kept (`wire.emco`), so a rewrite or a
    restore preserves every field, not just the ones this code knows.
    """

    placement_intent: str
    name: str
    body: emco.AppIntent

    @classmethod
    def new(cls, placement_intent: str, name: str, app: str) -> AppIntent:
        """An app intent EMCO does not have yet."""
        body = emco.AppIntent(emco.SparseMetadata(name), emco.AppIntentSpec(app))
        return cls(placement_intent, name, body)

    @classmethod
    def from_body(cls, placement_intent: str, name: str, body: Mapping[str, Any]) -> AppIntent:
        """An app intent from the JSON object a payload recorded (`encode`d, or EMCO's own),
        unknown keys kept; raises `FieldError`."""
        return cls(placement_intent, name, emco.AppIntent.decode(body, "body"))

    @property
    def app(self) -> str:
        """The app it places (``spec.app``)."""
        return self.body.spec.app

    @property
    def intent(self) -> emco.PlacementIntent:
        """The ``spec.intent`` placement."""
        return self.body.spec.intent

    def with_intent(self, intent: emco.PlacementIntent) -> AppIntent:
        """A copy whose ``spec.intent`` is replaced; everything else is kept."""
        spec = replace(self.body.spec, intent=intent)
        return replace(self, body=replace(self.body, spec=spec))


def single_cluster_intent(cluster: ClusterRef) -> emco.PlacementIntent:
    """The placement the Go reference writes: ``allOf`` the one target cluster."""
    return emco.PlacementIntent(all_of=[emco.AllOfItem(cluster.provider, cluster.cluster)])
