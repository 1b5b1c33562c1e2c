"""Orchestrator: DIG lifecycle actions and the DIG status (contract sections 10 and 11)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from emco_migrate.emcosim import schemas
from emco_migrate.emcosim.api.digs import B
from emco_migrate.emcosim.backend import backend
from emco_migrate.emcosim.bodies import decode_json
from emco_migrate.emcosim.deploy import lifecycle
from emco_migrate.emcosim.deploy.status import status_report
from emco_migrate.emcosim.deploy.status_query import StatusQuery
from emco_migrate.emcosim.errors import lifecycle_error, mapped, raw_error
from emco_migrate.emcosim.keys import DigId
from emco_migrate.emcosim.responses import empty, go_response
from emco_migrate.emcosim.types.orchestrator import Migrate, Rollback

router = APIRouter()


@router.post(B + "/approve")
async def approve(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """Approve: 202; any refusal is a 500 with the module's text."""
    with mapped(raw_error), backend(request).write() as s:
        lifecycle.approve(s, DigId(project, composite_app, version, dig))
    return empty(202)


@router.post(B + "/instantiate")
async def instantiate(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """Instantiate: 202, the rollout continues asynchronously."""
    with mapped(lifecycle_error), backend(request).write() as s:
        lifecycle.instantiate(s, DigId(project, composite_app, version, dig))
    return empty(202)


@router.post(B + "/terminate")
async def terminate(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """Terminate: 202; refusals are 500s with the module's text."""
    with mapped(raw_error), backend(request).write() as s:
        lifecycle.terminate(s, DigId(project, composite_app, version, dig))
    return empty(202)


@router.post(B + "/stop")
async def stop(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """Stop an instantiation or termination in progress: 202."""
    with mapped(raw_error), backend(request).write() as s:
        lifecycle.stop(s, DigId(project, composite_app, version, dig))
    return empty(202)


@router.post(B + "/update")
async def update(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """Update: 202 with the new revision as a bare JSON integer."""
    with mapped(lifecycle_error), backend(request).write() as s:
        revision = lifecycle.update(s, DigId(project, composite_app, version, dig))
    return go_response(revision, 202)


@router.post(B + "/rollback")
async def rollback(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """Rollback to the context of a revision given as a JSON string: 202."""
    body = await decode_json(request, Rollback, schemas.ROLLBACK)
    with mapped(lifecycle_error), backend(request).write() as s:
        lifecycle.rollback(s, DigId(project, composite_app, version, dig), body.spec.revision)
    return empty(202)


@router.post(B + "/migrate")
async def migrate(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """Migrate to an approved DIG of another version of the composite app: 202."""
    body = await decode_json(request, Migrate, schemas.MIGRATE)
    with mapped(lifecycle_error), backend(request).write() as s:
        lifecycle.migrate(
            s,
            DigId(project, composite_app, version, dig),
            body.spec.target_version,
            body.spec.target_dig,
        )
    return empty(202)


@router.get(B + "/status")
async def status(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """The DIG status; every error is a 400 with the module's text."""
    with mapped(lambda err: raw_error(err, 400)):
        query = StatusQuery.parse(request.url.query)
        with backend(request).read() as s:
            report = status_report(s, DigId(project, composite_app, version, dig), query)
    return go_response(report)
