"""Typed data at the workflow's boundaries: migration parameters and EMCO placement intents."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from emco_migrate.emcomigrate.names import ALL_ACTIVITIES

# activityParams["all-activities"] keys the Go reference requires, in its order.
REQUIRED_PARAMS = (
    "emcoURL",
    "project",
    "compositeApp",
    "compositeAppVersion",
    "deploymentIntentGroup",
    "targetClusterProvider",
    "targetClusterName",
)


class ParamError(ValueError):
    """Invalid workflow parameters; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


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


DEFAULT_VERIFY_TIMEOUT_SECONDS = 600
# How long one step may keep retrying in all when activityOptions set no bound of their own
# (no ScheduleToCloseTimeout and unlimited MaximumAttempts): then the run fails with the
# step's last error and undoes what it wrote, instead of retrying forever.
DEFAULT_STEP_BUDGET_SECONDS = 600
# How long a write we gave up on (timed out, or sent by a worker that died) may still reach
# EMCO, e.g. held by a slow proxy or a queued ingress. A retried /update or /rollback, and
# the compensation's final check, decide from EMCO's state only once this has passed.
DEFAULT_WRITE_SETTLE_SECONDS = 30


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
        cls, activity_params: dict[str, dict[str, str] | None] | None
    ) -> MigrationParams:
        """Validate the string parameters; one error lists every missing key."""
        field_prefix = f"activityParams[{ALL_ACTIVITIES!r}]"
        raw = (activity_params or {}).get(ALL_ACTIVITIES)
        if raw is None:
            raise ParamError(
                field_prefix,
                f"missing; it must hold {', '.join(REQUIRED_PARAMS)}",
            )
        missing = [key for key in REQUIRED_PARAMS if not raw.get(key, "").strip()]
        if missing:
            raise ParamError(field_prefix, f"missing required parameters: {', '.join(missing)}")
        url = _url(raw["emcoURL"], f"{field_prefix}.emcoURL")
        source = _source(raw, field_prefix)
        return cls(
            dig=DigRef(
                emco_url=url,
                project=raw["project"].strip(),
                composite_app=raw["compositeApp"].strip(),
                version=raw["compositeAppVersion"].strip(),
                dig=raw["deploymentIntentGroup"].strip(),
            ),
            target=ClusterRef(
                raw["targetClusterProvider"].strip(), raw["targetClusterName"].strip()
            ),
            apps=_apps(raw.get("apps")),
            source=source,
            dry_run=_bool(raw.get("dryRun"), f"{field_prefix}.dryRun"),
            strategy=_strategy(raw.get("strategy"), f"{field_prefix}.strategy"),
            verify_timeout_seconds=_positive_int(
                raw.get("verifyTimeoutSeconds"),
                f"{field_prefix}.verifyTimeoutSeconds",
                DEFAULT_VERIFY_TIMEOUT_SECONDS,
            ),
            clm_url=_url(raw.get("clmURL"), f"{field_prefix}.clmURL") or url,
            dcm_url=_url(raw.get("dcmURL"), f"{field_prefix}.dcmURL") or url,
            step_budget_seconds=_positive_int(
                raw.get("stepBudgetSeconds"),
                f"{field_prefix}.stepBudgetSeconds",
                DEFAULT_STEP_BUDGET_SECONDS,
            ),
            write_settle_seconds=_positive_int(
                raw.get("writeSettleSeconds"),
                f"{field_prefix}.writeSettleSeconds",
                DEFAULT_WRITE_SETTLE_SECONDS,
                allow_zero=True,
            ),
        )


def _url(value: str | None, field: str) -> str:
    if value is None or not value.strip():
        return ""
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ParamError(field, f"must be an http(s) URL like http://host:port, got {url!r}")
    return url


def _apps(value: str | None) -> tuple[str, ...] | None:
    if value is None or not value.strip():
        return None
    return tuple(dict.fromkeys(a.strip() for a in value.split(",") if a.strip()))


def _source(raw: dict[str, str], prefix: str) -> ClusterRef | None:
    provider = raw.get("sourceClusterProvider", "").strip()
    cluster = raw.get("sourceClusterName", "").strip()
    if not provider and not cluster:
        return None
    if not provider or not cluster:
        raise ParamError(
            prefix, "sourceClusterProvider and sourceClusterName must be given together"
        )
    return ClusterRef(provider, cluster)


def _bool(value: str | None, field: str) -> bool:
    if value is None or value.strip() == "":
        return False
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ParamError(field, f'must be "true" or "false", got {value!r}')


def _strategy(value: str | None, field: str) -> Strategy:
    if value is None or not value.strip():
        return Strategy.DIRECT
    try:
        return Strategy(value.strip())
    except ValueError:
        choices = ", ".join(s.value for s in Strategy)
        raise ParamError(field, f"must be one of {choices}, got {value!r}") from None


def _positive_int(value: str | None, field: str, default: int, *, allow_zero: bool = False) -> int:
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ParamError(field, f"must be a whole number of seconds, got {value!r}") from None
    if number < 0 or (number == 0 and not allow_zero):
        wanted = "0 or more" if allow_zero else "positive"
        raise ParamError(field, f"must be {wanted}, got {number}")
    return number


@dataclass(frozen=True)
class AppIntent:
    """An EMCO app placement intent (`.../generic-placement-intents/{gpi}/app-intents/{name}`).

    ``body`` is the full JSON EMCO returned, kept so a rewrite or a restore preserves every
    field (description, userData, anyOf, ...), not just the ones this code knows.
    """

    placement_intent: str
    name: str
    app: str
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def intent(self) -> dict[str, Any]:
        """The ``spec.intent`` placement object."""
        spec = self.body.get("spec") or {}
        intent = spec.get("intent") or {}
        return intent if isinstance(intent, dict) else {}

    def with_intent(self, intent: dict[str, Any]) -> AppIntent:
        """A copy whose ``spec.intent`` is replaced; name, app and metadata are kept."""
        spec = dict(self.body.get("spec") or {})
        spec["app"] = self.app
        spec["intent"] = intent
        metadata = dict(self.body.get("metadata") or {})
        metadata["name"] = self.name
        return AppIntent(
            self.placement_intent,
            self.name,
            self.app,
            {**self.body, "metadata": metadata, "spec": spec},
        )


def single_cluster_intent(cluster: ClusterRef) -> dict[str, Any]:
    """The placement the Go reference writes: ``allOf`` the one target cluster."""
    return {"allOf": [{"clusterProvider": cluster.provider, "cluster": cluster.cluster}]}
