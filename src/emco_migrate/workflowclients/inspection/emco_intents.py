"""What an ended run left in EMCO: each planned app intent read back and compared."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from emco_migrate.emcomigrate.emco_client import answer_text, dig_path
from emco_migrate.emcomigrate.endpoints import request_url
from emco_migrate.emcomigrate.guards import cluster_names, same_placement
from emco_migrate.emcomigrate.types import DigRef

# A status command must answer promptly even when EMCO is down or blackholed.
EMCO_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
MAX_REASON_CHARS = 300


class IntentState(enum.StrEnum):
    """How an app intent in EMCO compares with the run's plan."""

    ORIGINAL = "original"  # the placement the run found
    WRITTEN = "written"  # the run's new placement
    INTERIM = "interim"  # make-before-break's interim placement
    CHANGED = "changed"  # something else: not this run's doing
    MISSING = "missing"  # EMCO has no such app intent
    UNKNOWN = "unknown"  # EMCO could not be read


@dataclass(frozen=True)
class PlannedIntent:
    """One entry of the progress answer's ``plan``."""

    app: str
    app_intent: str
    placement_intent: str
    current: dict[str, Any]
    new: dict[str, Any]
    interim: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, item: Any) -> PlannedIntent | None:
        """Parse a ``plan`` entry; None when it lacks the names needed to find it in EMCO."""
        if not isinstance(item, dict):
            return None
        names = [item.get(k) for k in ("app", "appIntent", "placementIntent")]
        if not all(isinstance(n, str) and n for n in names):
            return None
        interim = item.get("interimPlacement")
        return cls(
            app=item["app"],
            app_intent=item["appIntent"],
            placement_intent=item["placementIntent"],
            current=_placement(item.get("currentPlacement")),
            new=_placement(item.get("newPlacement")),
            interim=interim if isinstance(interim, dict) else None,
        )


@dataclass(frozen=True)
class IntentInEmco:
    """A planned app intent as EMCO holds it now."""

    planned: PlannedIntent
    state: IntentState
    placement: dict[str, Any] | None = None
    reason: str | None = None  # why the state is unknown

    def to_json(self) -> dict[str, Any]:
        """One entry of ``intentsInEmco``."""
        out: dict[str, Any] = {
            "app": self.planned.app,
            "appIntent": self.planned.app_intent,
            "placementIntent": self.planned.placement_intent,
            "state": self.state.value,
            "placement": self.placement,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        return out


def classify(planned: PlannedIntent, placement: dict[str, Any]) -> IntentState:
    """Compare EMCO's ``spec.intent`` with the plan's placements the way the workflow's own
    ownership checks do (`guards.same_placement`: cluster order and empty lists aside)."""
    if same_placement(placement, planned.current):
        return IntentState.ORIGINAL
    if same_placement(placement, planned.new):
        return IntentState.WRITTEN
    if planned.interim is not None and same_placement(placement, planned.interim):
        return IntentState.INTERIM
    return IntentState.CHANGED


async def read_intents(
    http: httpx.AsyncClient | None, dig: DigRef, plan: Sequence[PlannedIntent]
) -> tuple[IntentInEmco, ...]:
    """GET every planned app intent (concurrently) and classify it; never raises for EMCO.

    ``http`` is the caller's long-lived client; without one, a client lives for this call.
    """
    if http is None:
        async with httpx.AsyncClient(timeout=EMCO_TIMEOUT) as own:
            return await read_intents(own, dig, plan)
    return tuple(await asyncio.gather(*(_read(http, dig, planned) for planned in plan)))


async def _read(http: httpx.AsyncClient, dig: DigRef, planned: PlannedIntent) -> IntentInEmco:
    url_path = dig_path(
        dig, "generic-placement-intents", planned.placement_intent, "app-intents",
        planned.app_intent,
    )  # fmt: skip
    url = request_url(dig.emco_url, url_path)
    try:
        # EMCO answers single resources 406 without this Accept header.
        response = await http.get(url, headers={"Accept": "application/json"}, timeout=EMCO_TIMEOUT)
    except httpx.HTTPError as err:
        reason = f"EMCO at {dig.emco_url} unreachable: {_reason(err)}"
        return IntentInEmco(planned, IntentState.UNKNOWN, reason=reason)
    if response.status_code == 404:
        return IntentInEmco(planned, IntentState.MISSING)
    if response.status_code != 200:
        text = answer_text(response)
        reason = _cut(f"EMCO answered {response.status_code} to GET {url_path}: {text}")
        return IntentInEmco(planned, IntentState.UNKNOWN, reason=reason)
    try:
        body = response.json()
    except ValueError:
        reason = f"EMCO sent invalid JSON for GET {url_path}"
        return IntentInEmco(planned, IntentState.UNKNOWN, reason=reason)
    spec = body.get("spec") if isinstance(body, dict) else None
    placement = _placement(spec.get("intent") if isinstance(spec, dict) else None)
    return IntentInEmco(planned, classify(planned, placement), placement)


def summary(intents: Sequence[IntentInEmco]) -> str:
    """``app intents now in EMCO: collectd written by this run (points at p2+c2), ...``."""
    if not intents:
        return ""
    unknown = [i for i in intents if i.state is IntentState.UNKNOWN]
    if len(unknown) == len(intents):
        return f"app intents now in EMCO: unknown ({unknown[0].reason})"
    return "app intents now in EMCO: " + ", ".join(_describe(i) for i in intents)


def _describe(intent: IntentInEmco) -> str:
    name = intent.planned.app
    where = _clusters(intent.placement)
    points = f" (points at {where})" if where else ""
    match intent.state:
        case IntentState.ORIGINAL:
            return f"{name} original"
        case IntentState.WRITTEN:
            return f"{name} written by this run{points}"
        case IntentState.INTERIM:
            return f"{name} interim placement of this run{points}"
        case IntentState.CHANGED:
            return f"{name} changed by someone else{points}"
        case IntentState.MISSING:
            return f"{name} missing"
        case IntentState.UNKNOWN:
            return f"{name} unknown ({intent.reason})"


def _clusters(placement: dict[str, Any] | None) -> str:
    """``provider+cluster`` of every cluster the placement names, in order."""
    return ", ".join(n for key in ("allOf", "anyOf") for n in cluster_names(placement, key))


def _placement(value: Any) -> dict[str, Any]:
    """A placement as the plan records it: the intent object, ``{}`` for none."""
    return value if isinstance(value, dict) else {}


def _reason(err: httpx.HTTPError) -> str:
    return _cut(" ".join(str(err).split()) or type(err).__name__)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"
