"""The ``progress`` answer with what Temporal's description and EMCO add to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from emco_migrate.emcomigrate.types import DigRef
from emco_migrate.workflowclients.inspection.activity import PendingActivity
from emco_migrate.workflowclients.inspection.emco_intents import (
    IntentInEmco,
    PlannedIntent,
    read_intents,
    summary,
)

DIG_KEYS = ("emcoURL", "project", "compositeApp", "compositeAppVersion", "deploymentIntentGroup")


@dataclass(frozen=True)
class ProgressAnswer:
    """The parts of a ``progress`` answer this module reads: where the DIG is, the plan."""

    answer: dict[str, Any]
    dig: DigRef | None
    plan: tuple[PlannedIntent, ...]

    @classmethod
    def parse(cls, answer: Any) -> ProgressAnswer | None:
        """None when the answer is not a progress object."""
        if not isinstance(answer, dict):
            return None
        items = answer.get("plan")
        planned = (PlannedIntent.from_json(i) for i in (items if isinstance(items, list) else ()))
        return cls(answer, _dig(answer.get("dig")), tuple(p for p in planned if p is not None))

    async def intents_in_emco(self, http: httpx.AsyncClient | None) -> tuple[IntentInEmco, ...]:
        """The planned app intents as EMCO holds them now (none without a DIG or plan)."""
        if self.dig is None or not self.plan:
            return ()
        return await read_intents(http, self.dig, self.plan)

    def annotated(
        self, activity: PendingActivity | None, intents: tuple[IntentInEmco, ...] | None
    ) -> dict[str, Any]:
        """The answer plus ``activity`` (null when nothing is pending) and, when read,
        ``intentsInEmco``; ``message`` gets a clause for each. Other keys are unchanged."""
        out = dict(self.answer)
        out["activity"] = activity.to_json() if activity is not None else None
        clauses = [activity.summary() if activity is not None else ""]
        if intents is not None:
            out["intentsInEmco"] = [i.to_json() for i in intents]
            clauses.append(summary(intents))
        message = str(out.get("message") or "")
        out["message"] = "; ".join(c for c in (message, *clauses) if c)
        return out


def _dig(value: Any) -> DigRef | None:
    if not isinstance(value, dict):
        return None
    fields = [value.get(k) for k in DIG_KEYS]
    if not all(isinstance(f, str) and f for f in fields):
        return None
    url, project, composite_app, version, dig = (str(f) for f in fields)
    return DigRef(
        emco_url=url, project=project, composite_app=composite_app, version=version, dig=dig
    )
