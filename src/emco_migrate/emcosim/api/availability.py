"""The emulator's ground truth under /emulator/v1: when a DIG's apps were Ready, and where.

``GET /emulator/v1/projects/{p}/composite-apps/{ca}/{v}/deployment-intent-groups/{dig}``
``/availability`` answers, per app and cluster, the times the app became Ready there and
stopped being Ready (deleted, replaced, or its cluster marked never-ready), and the app's
interruptions: the intervals in which it was Ready on no cluster (see
`deploy.availability`). Times are Unix seconds on the emulator's clock; ``until: null``
means still going on.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from emco_migrate.emcosim.backend import backend
from emco_migrate.emcosim.deploy.availability import (
    AppAvailability,
    Interval,
    dig_availability,
    seconds,
)
from emco_migrate.emcosim.keys import DigId

router = APIRouter(prefix="/emulator/v1")

DIG = "/projects/{project}/composite-apps/{composite_app}/{version}/deployment-intent-groups/{dig}"


def _time(value: float) -> float | None:
    return None if value == math.inf else value


def _interruption(interval: Interval, now: float) -> dict[str, Any]:
    start, end = interval
    return {"from": start, "until": _time(end), "seconds": round(seconds(interval, now), 3)}


def _app_json(app: AppAvailability, now: float) -> dict[str, Any]:
    return {
        "app": app.app,
        "clusters": [
            {
                "clusterProvider": c.provider,
                "cluster": c.cluster,
                "transitions": [{"at": at, "ready": ready} for at, ready in c.transitions()],
            }
            for c in app.clusters
        ],
        "interruptions": [_interruption(i, now) for i in app.interruptions],
        "interruptionSeconds": round(app.interruption_seconds(now), 3),
    }


@router.get(DIG + "/availability")
async def availability(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> JSONResponse:
    """Per app and cluster: Ready transitions, and when the app was Ready nowhere."""
    dig_id = DigId(project, composite_app, version, dig)
    with backend(request).read() as s:
        if not s.objects.exists(dig_id.ref):
            return JSONResponse({"error": f"no deployment intent group {dig}"}, status_code=404)
        apps = dig_availability(s, dig_id.ref.key)
        now = s.now
    by_app = [_app_json(app, now) for app in apps]
    return JSONResponse(
        {
            "project": project,
            "compositeApp": composite_app,
            "compositeAppVersion": version,
            "deploymentIntentGroup": dig,
            "now": now,
            "apps": by_app,
            "interruptionSeconds": max((a["interruptionSeconds"] for a in by_app), default=0.0),
        }
    )
