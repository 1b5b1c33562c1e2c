"""Orchestrator: projects, composite apps and controllers (contract section 4)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from emco_migrate.emcosim import keys, schemas
from emco_migrate.emcosim.backend import backend
from emco_migrate.emcosim.bodies import decode_json
from emco_migrate.emcosim.errors import HttpError, ModuleError, mapped, orchestrator_error
from emco_migrate.emcosim.responses import empty, go_response
from emco_migrate.emcosim.types.orchestrator import Controller
from emco_migrate.wire.emco import CompositeApp, MetadataOnly

router = APIRouter()

_CONTROLLER_SCHEMA = schemas.with_metadata(spec={"type": "object"})


@router.post("/projects")
async def create_project(request: Request) -> Response:
    """POST a project: 201, 409 if it exists."""
    project = await decode_json(request, MetadataOnly, schemas.METADATA_ONLY)
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = keys.project(project.metadata.name)
        s.objects.put(ref, project, duplicate=ModuleError("Project already exists"))
    return go_response(project, 201)


@router.get("/projects")
async def list_projects(request: Request) -> Response:
    """Every project (null if none)."""
    with backend(request).read() as s:
        return go_response(s.objects.children(None, "projects", MetadataOnly) or None)


@router.get("/projects/{project}")
async def get_project(request: Request, project: str) -> Response:
    """One project."""
    with mapped(orchestrator_error), backend(request).read() as s:
        found = s.objects.get(keys.project(project), MetadataOnly)
        if found is None:
            raise ModuleError("Project not found")
        return go_response(found)


@router.put("/projects/{project}")
async def put_project(request: Request, project: str) -> Response:
    """Create or replace a project: always 200, no schema check, names must agree."""
    body = await decode_json(request, MetadataOnly, None)
    if not body.metadata.name:
        raise HttpError(400, "Missing name in PUT request")
    if body.metadata.name != project:
        raise HttpError(400, "Mismatched name in PUT request")
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.put(keys.project(project), body)
    return go_response(body, 200)


@router.delete("/projects/{project}")
async def delete_project(request: Request, project: str) -> Response:
    """Delete a project without children."""
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.delete(keys.project(project))
    return empty(204)


@router.post("/projects/{project}/composite-apps")
async def create_composite_app(request: Request, project: str) -> Response:
    """POST a composite app version: 201; 409 if it exists or the project is missing."""
    app = await decode_json(request, CompositeApp, schemas.COMPOSITE_APP)
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = keys.composite_app(project, app.metadata.name, app.spec.version)
        s.objects.put(ref, app, duplicate=ModuleError("CompositeApp already exists"))
    return go_response(app, 201)


@router.get("/projects/{project}/composite-apps")
async def list_composite_apps(request: Request, project: str) -> Response:
    """Every composite app version of a project (null if none)."""
    with mapped(orchestrator_error), backend(request).read() as s:
        if not s.objects.exists(keys.project(project)):
            raise ModuleError("Project not found")
        apps = s.objects.children(keys.project(project), keys.COMPOSITE_APPS, CompositeApp)
        return go_response(apps or None)


@router.get("/projects/{project}/composite-apps/{name}/{version}")
async def get_composite_app(request: Request, project: str, name: str, version: str) -> Response:
    """One composite app version."""
    with mapped(orchestrator_error), backend(request).read() as s:
        found = s.objects.get(keys.composite_app(project, name, version), CompositeApp)
        if found is None:
            raise ModuleError("CompositeApp not found")
        return go_response(found)


@router.put("/projects/{project}/composite-apps/{name}/{version}")
async def put_composite_app(request: Request, project: str, name: str, version: str) -> Response:
    """Create or replace: always 201, keyed by the body's name and version (URL ignored)."""
    app = await decode_json(request, CompositeApp, schemas.COMPOSITE_APP)
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.put(keys.composite_app(project, app.metadata.name, app.spec.version), app)
    return go_response(app, 201)


@router.delete("/projects/{project}/composite-apps/{name}/{version}")
async def delete_composite_app(request: Request, project: str, name: str, version: str) -> Response:
    """Delete a composite app version without children."""
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.delete(keys.composite_app(project, name, version))
    return empty(204)


@router.post("/controllers")
async def create_controller(request: Request) -> Response:
    """Register a controller (``rsync`` must exist before instantiation)."""
    controller = await decode_json(request, Controller, _CONTROLLER_SCHEMA)
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = keys.controller(controller.metadata.name)
        s.objects.put(ref, controller, duplicate=ModuleError("Controller already exists"))
    return go_response(controller, 201)


@router.get("/controllers")
async def list_controllers(request: Request) -> Response:
    """Every controller (null if none)."""
    with backend(request).read() as s:
        return go_response(s.objects.children(None, keys.CONTROLLERS, Controller) or None)


@router.get("/controllers/{name}")
async def get_controller(request: Request, name: str) -> Response:
    """One controller."""
    with mapped(orchestrator_error), backend(request).read() as s:
        found = s.objects.get(keys.controller(name), Controller)
        if found is None:
            raise ModuleError("Controller not found")
        return go_response(found)


@router.put("/controllers/{name}")
async def put_controller(request: Request, name: str) -> Response:
    """Create or replace a controller (201), keyed by the body's name."""
    controller = await decode_json(request, Controller, _CONTROLLER_SCHEMA)
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.put(keys.controller(controller.metadata.name), controller)
    return go_response(controller, 201)


@router.delete("/controllers/{name}")
async def delete_controller(request: Request, name: str) -> Response:
    """Remove a controller."""
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.delete(keys.controller(name))
    return empty(204)
