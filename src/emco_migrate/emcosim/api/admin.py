"""The emulator's own API under /emulator/v1: simulated clusters, health (faults: `faults.py`).

JSON in and out; invalid input is a 422 whose body names the offending field.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from emco_migrate.emcosim import keys
from emco_migrate.emcosim.backend import backend
from emco_migrate.emcosim.deploy.rollout import Deployed, Readiness
from emco_migrate.emcosim.deploy.session import Session
from emco_migrate.emcosim.store.clusters import ClusterSettings
from emco_migrate.emcosim.types.clm import Cluster, ClusterProvider

router = APIRouter(prefix="/emulator/v1")


class ClusterUpdate(BaseModel):
    """Body of ``PUT /emulator/v1/clusters/{provider}/{cluster}`` (every key optional).

    ``readyDelaySeconds: null`` goes back to the emulator's ``--ready-delay``.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    reachable: StrictBool | None = None
    ready_delay_seconds: float | None = Field(default=None, alias="readyDelaySeconds", ge=0)
    never_ready: StrictBool | None = Field(default=None, alias="neverReady")


def invalid(err: ValidationError) -> JSONResponse:
    """422 naming the first field pydantic rejected (by its JSON name)."""
    first = err.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "body"
    return field_error(field, first["msg"])


def field_error(field: str, reason: str) -> JSONResponse:
    """422 naming the field at fault."""
    return JSONResponse({"error": reason, "field": field}, status_code=422)


def _resource_state(deployed: Deployed, readiness: Readiness, deleting: bool) -> str:
    if deleting:
        return "Deleting"
    if deployed != Deployed.APPLIED:
        return deployed.value
    return readiness.value


def _cluster_json(s: Session, provider: str, cluster: str, known: bool) -> dict[str, Any]:
    settings: ClusterSettings = s.rollout.settings(provider, cluster)
    resources = []
    for row in s.contexts.all_resources():
        if (row.provider, row.cluster) != (provider, cluster) or row.superseded:
            continue
        view = s.rollout.view(row)
        if view.deployed == Deployed.DELETED:
            continue
        context = s.contexts.get(row.context)
        resources.append(
            {
                "project": context.project if context else "",
                "compositeApp": context.composite_app if context else "",
                "compositeAppVersion": context.version if context else "",
                "deploymentIntentGroup": context.dig if context else "",
                "app": row.app,
                "context": row.context,
                "apiVersion": f"{row.group}/{row.version}" if row.group else row.version,
                "kind": row.kind,
                "name": row.name,
                "state": _resource_state(view.deployed, view.readiness, view.deleting),
            }
        )
    return {
        "clusterProvider": provider,
        "cluster": cluster,
        "known": known,
        "reachable": settings.reachable,
        "readyDelaySeconds": settings.delay(s.default_delay),
        "neverReady": settings.never_ready,
        "connectivity": s.rollout.connectivity(provider, cluster, known).value,
        "resources": resources,
    }


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """Liveness, and which state file this process uses."""
    return JSONResponse({"status": "ok", "db": backend(request).db.path})


@router.get("/clusters")
async def list_clusters(request: Request) -> JSONResponse:
    """Every simulated cluster with its settings and the resources deployed on it."""
    with backend(request).read() as s:
        names: dict[tuple[str, str], bool] = {}
        for provider in s.objects.children(None, keys.PROVIDERS, ClusterProvider):
            name = provider.metadata.name
            for cluster in s.objects.children(keys.provider(name), keys.CLUSTERS, Cluster):
                names[(name, cluster.metadata.name)] = True
        for row in s.contexts.all_resources():
            names.setdefault((row.provider, row.cluster), False)
        for key in s.clusters.all():
            names.setdefault(key, False)
        return JSONResponse([_cluster_json(s, p, c, known) for (p, c), known in names.items()])


@router.put("/clusters/{provider}/{cluster}")
async def update_cluster(request: Request, provider: str, cluster: str) -> JSONResponse:
    """Change a cluster's reachability, readiness delay or never-ready flag.

    The cluster need not exist in CLM yet (``known`` says whether it does).
    """
    try:
        change = ClusterUpdate.model_validate_json(await request.body() or b"{}")
    except ValidationError as err:
        return invalid(err)
    with backend(request).write() as s:
        s.clusters.update(
            provider,
            cluster,
            s.now,
            reachable=change.reachable,
            ready_delay=change.ready_delay_seconds,
            clear_ready_delay="ready_delay_seconds" in change.model_fields_set
            and change.ready_delay_seconds is None,
            never_ready=change.never_ready,
        )
    with backend(request).read() as s:
        known = s.objects.exists(keys.cluster(provider, cluster))
        return JSONResponse(_cluster_json(s, provider, cluster, known))
