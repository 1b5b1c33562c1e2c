"""Orchestrator: generic placement intents and app intents (contract sections 7 and 8)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from emco_migrate.emcosim import keys, schemas
from emco_migrate.emcosim.api.digs import ALL_METHODS, B, dig_ref, require_composite_app
from emco_migrate.emcosim.backend import backend
from emco_migrate.emcosim.bodies import decode_json
from emco_migrate.emcosim.errors import HttpError, ModuleError, mapped, orchestrator_error
from emco_migrate.emcosim.responses import empty, go_response
from emco_migrate.emcosim.store import Ref
from emco_migrate.wire.emco import AppIntent, AppIntentSpec, MetadataOnly

router = APIRouter()

GPI = B + "/generic-placement-intents/{gpi}"

_FRIENDLY = (
    ("clusterProvider is required", "Missing clusterProvider in an intent"),
    ("cluster is required", "Missing cluster or clusterLabel"),
    ("Must not validate the schema (not)", "Only one of cluster name or cluster label allowed"),
    ("app is required", "Missing app for the intent"),
    ("name is required", "Missing name for the intent"),
)


def friendly_app_intent_error(message: str) -> str:
    """The app-intent handler's rewrite of schema errors into its own texts."""
    return next((text for needle, text in _FRIENDLY if needle in message), message)


# -------------------------------------------------------------- generic placement intents


async def _put_gpi(request: Request, parent: Ref, *, create: bool) -> Response:
    gpi = await decode_json(request, MetadataOnly, schemas.METADATA_ONLY)
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = parent.child(keys.GPIS, gpi.metadata.name)
        existed = s.objects.put(
            ref,
            gpi,
            duplicate=ModuleError("GenericPlacementIntent already exists") if create else None,
        )
    return go_response(gpi, 200 if existed else 201)


@router.post(B + "/generic-placement-intents")
async def create_gpi(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """POST a generic placement intent (any ``spec`` is dropped)."""
    parent = dig_ref(project, composite_app, version, dig)
    return await _put_gpi(request, parent, create=True)


@router.put(GPI)
async def put_gpi(
    request: Request, project: str, composite_app: str, version: str, dig: str, gpi: str
) -> Response:
    """Create (201) or replace (200), keyed by the body name."""
    parent = dig_ref(project, composite_app, version, dig)
    return await _put_gpi(request, parent, create=False)


@router.get(B + "/generic-placement-intents")
async def list_gpis(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """Every GPI (null if none, also under a missing DIG)."""
    with mapped(orchestrator_error), backend(request).read() as s:
        require_composite_app(s, project, composite_app, version)
        parent = dig_ref(project, composite_app, version, dig)
        return go_response(s.objects.children(parent, keys.GPIS, MetadataOnly) or None)


@router.get(GPI)
async def get_gpi(
    request: Request, project: str, composite_app: str, version: str, dig: str, gpi: str
) -> Response:
    """One GPI."""
    ref = dig_ref(project, composite_app, version, dig).child(keys.GPIS, gpi)
    with mapped(orchestrator_error), backend(request).read() as s:
        found = s.objects.get(ref, MetadataOnly)
        if found is None:
            raise ModuleError("GenericPlacementIntent not found")
        return go_response(found)


@router.delete(GPI)
async def delete_gpi(
    request: Request, project: str, composite_app: str, version: str, dig: str, gpi: str
) -> Response:
    """Delete a GPI without app intents."""
    ref = dig_ref(project, composite_app, version, dig).child(keys.GPIS, gpi)
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.delete(ref)
    return empty(204)


# ----------------------------------------------------------------------------- app intents


def _gpi_ref(project: str, composite_app: str, version: str, dig: str, gpi: str) -> Ref:
    return dig_ref(project, composite_app, version, dig).child(keys.GPIS, gpi)


async def _put_app_intent(request: Request, gpi_ref: Ref, *, create: bool) -> Response:
    intent = await decode_json(
        request, AppIntent, schemas.APP_INTENT, rewrite=friendly_app_intent_error
    )
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = gpi_ref.child(keys.APP_INTENTS, intent.metadata.name)
        existed = s.objects.put(
            ref, intent, duplicate=ModuleError("AppIntent already exists") if create else None
        )
    return go_response(intent, 200 if existed else 201)


@router.post(GPI + "/app-intents")
async def create_app_intent(
    request: Request, project: str, composite_app: str, version: str, dig: str, gpi: str
) -> Response:
    """POST an app's placement."""
    gpi_ref = _gpi_ref(project, composite_app, version, dig, gpi)
    return await _put_app_intent(request, gpi_ref, create=True)


@router.put(GPI + "/app-intents/{name}")
async def put_app_intent(
    request: Request, project: str, composite_app: str, version: str, dig: str, gpi: str, name: str
) -> Response:
    """201 new / 200 replaced, keyed by the body name; allowed in every DIG state."""
    gpi_ref = _gpi_ref(project, composite_app, version, dig, gpi)
    return await _put_app_intent(request, gpi_ref, create=False)


@router.get(GPI + "/app-intents")
async def list_app_intents(
    request: Request, project: str, composite_app: str, version: str, dig: str, gpi: str
) -> Response:
    """Every app intent of the GPI (null if none, also for a missing GPI)."""
    gpi_ref = _gpi_ref(project, composite_app, version, dig, gpi)
    with backend(request).read() as s:
        return go_response(s.objects.children(gpi_ref, keys.APP_INTENTS, AppIntent) or None)


@router.api_route(GPI + "/app-intents/", methods=ALL_METHODS)
async def app_intent_by_app(
    request: Request, project: str, composite_app: str, version: str, dig: str, gpi: str
) -> Response:
    """``app-intents/?app=X`` routes here, but the handler reads ``app-name``."""
    if "app" not in request.query_params:
        raise HttpError(404, "404 page not found")
    app = request.query_params.get("app-name", "")
    if not app:
        raise HttpError(400, "Missing appName in GET request")
    gpi_ref = _gpi_ref(project, composite_app, version, dig, gpi)
    with backend(request).read() as s:
        for intent in s.objects.children(gpi_ref, keys.APP_INTENTS, AppIntent):
            if intent.spec.app == app:
                return go_response(intent.spec)
    return go_response(AppIntentSpec())


@router.get(GPI + "/app-intents/{name}")
async def get_app_intent(
    request: Request, project: str, composite_app: str, version: str, dig: str, gpi: str, name: str
) -> Response:
    """One app intent."""
    ref = _gpi_ref(project, composite_app, version, dig, gpi).child(keys.APP_INTENTS, name)
    with mapped(orchestrator_error), backend(request).read() as s:
        found = s.objects.get(ref, AppIntent)
        if found is None:
            raise ModuleError("AppIntent not found")
        return go_response(found)


@router.delete(GPI + "/app-intents/{name}")
async def delete_app_intent(
    request: Request, project: str, composite_app: str, version: str, dig: str, gpi: str, name: str
) -> Response:
    """Delete an app intent."""
    ref = _gpi_ref(project, composite_app, version, dig, gpi).child(keys.APP_INTENTS, name)
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.delete(ref)
    return empty(204)
