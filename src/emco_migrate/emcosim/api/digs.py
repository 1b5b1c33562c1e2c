"""Orchestrator: deployment intent groups and their ``/intents``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from emco_migrate.emcosim import keys, schemas
from emco_migrate.emcosim.backend import backend
from emco_migrate.emcosim.bodies import decode_json
from emco_migrate.emcosim.deploy.lifecycle import check_deletable
from emco_migrate.emcosim.deploy.session import Session
from emco_migrate.emcosim.errors import HttpError, ModuleError, mapped, orchestrator_error
from emco_migrate.emcosim.keys import DigId
from emco_migrate.emcosim.responses import empty, go_response
from emco_migrate.emcosim.store import Ref
from emco_migrate.emcosim.store.states import State, StateInfo
from emco_migrate.emcosim.types.orchestrator import GroupIntent, GroupIntentSpec, IntentList
from emco_migrate.wire.emco import DeploymentIntentGroup

router = APIRouter()

CA = "/projects/{project}/composite-apps/{composite_app}/{version}"
DIGS = CA + "/deployment-intent-groups"
B = DIGS + "/{dig}"
ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


def dig_ref(project: str, composite_app: str, version: str, dig: str) -> Ref:
    """The DIG named in the URL."""
    return DigId(project, composite_app, version, dig).ref


def require_composite_app(s: Session, project: str, composite_app: str, version: str) -> Ref:
    """The composite app version, or the module error for a missing project or app."""
    if not s.objects.exists(keys.project(project)):
        raise ModuleError("Project not found")
    ref = keys.composite_app(project, composite_app, version)
    if not s.objects.exists(ref):
        raise ModuleError("CompositeApp not found")
    return ref


# ---------------------------------------------------------------------------------- DIGs


@router.post(DIGS)
async def create_dig(request: Request, project: str, composite_app: str, version: str) -> Response:
    """POST a DIG: 201 and state Created; 409 if it exists or its composite app is missing."""
    dig = await decode_json(request, DeploymentIntentGroup, schemas.DEPLOYMENT_INTENT_GROUP)
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = dig_ref(project, composite_app, version, dig.metadata.name)
        s.objects.put(ref, dig, duplicate=ModuleError("DeploymentIntent already exists"))
        s.states.put(ref, StateInfo().add(State.CREATED, s.now))
    return go_response(dig, 201)


@router.get(DIGS)
async def list_digs(request: Request, project: str, composite_app: str, version: str) -> Response:
    """Every DIG of the composite app version (null if none)."""
    with mapped(orchestrator_error), backend(request).read() as s:
        parent = require_composite_app(s, project, composite_app, version)
        return go_response(s.objects.children(parent, keys.DIGS, DeploymentIntentGroup) or None)


@router.get(B)
async def get_dig(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """One DIG (metadata and spec; its state is only visible in status)."""
    with mapped(orchestrator_error), backend(request).read() as s:
        found = s.objects.get(dig_ref(project, composite_app, version, dig), DeploymentIntentGroup)
        if found is None:
            raise ModuleError("DeploymentIntentGroup not found")
        return go_response(found)


@router.put(B)
async def put_dig(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """201 when new, 200 when replaced in state Created, else 409; keyed by the body name."""
    body = await decode_json(request, DeploymentIntentGroup, schemas.DEPLOYMENT_INTENT_GROUP)
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = dig_ref(project, composite_app, version, body.metadata.name)
        existed = s.objects.exists(ref)
        if existed:
            info = s.states.get(ref)
            if info is not None and info.current != State.CREATED:
                raise ModuleError("The DeploymentIntentGroup is not updated")
        s.objects.put(ref, body)
        if not existed:
            s.states.put(ref, StateInfo().add(State.CREATED, s.now))
    return go_response(body, 200 if existed else 201)


@router.delete(B)
async def delete_dig(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """Delete a DIG that is not deployed and has no intents left."""
    dig_id = DigId(project, composite_app, version, dig)
    with mapped(orchestrator_error), backend(request).write() as s:
        if not s.objects.exists(dig_id.ref):
            raise ModuleError("db Remove resource not found")
        check_deletable(s, dig_id)
        s.objects.delete(dig_id.ref)
        s.states.delete(dig_id.ref)
        s.contexts.delete_owned(dig_id.ref.key)
    return empty(204)


# ------------------------------------------------------------------------------- /intents


async def _put_group_intent(request: Request, parent: Ref, *, create: bool) -> Response:
    intent = await decode_json(request, GroupIntent, schemas.GROUP_INTENT)
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = parent.child(keys.GROUP_INTENTS, intent.metadata.name)
        existed = s.objects.put(
            ref, intent, duplicate=ModuleError("Intent already exists") if create else None
        )
    return go_response(intent, 200 if existed else 201)


@router.post(B + "/intents")
async def create_group_intent(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """Link the DIG to its placement intent (key ``genericPlacementIntent``)."""
    parent = dig_ref(project, composite_app, version, dig)
    return await _put_group_intent(request, parent, create=True)


@router.put(B + "/intents/{name}")
async def put_group_intent(
    request: Request, project: str, composite_app: str, version: str, dig: str, name: str
) -> Response:
    """Create (201) or replace (200), keyed by the body name."""
    parent = dig_ref(project, composite_app, version, dig)
    return await _put_group_intent(request, parent, create=False)


@router.get(B + "/intents")
async def list_group_intents(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """``{"intent": [<map>, ...]}`` (``null`` inside if none)."""
    parent = dig_ref(project, composite_app, version, dig)
    with backend(request).read() as s:
        intents = s.objects.children(parent, keys.GROUP_INTENTS, GroupIntent)
    maps = [i.spec.intent or {} for i in intents]
    return go_response(IntentList(maps or None))


@router.api_route(B + "/intents/", methods=ALL_METHODS)
async def group_intent_by_query(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """``GET /intents/?intent=NAME``: the named intent's spec only."""
    name = request.query_params.get("intent")
    if name is None:
        raise HttpError(404, "404 page not found")
    ref = dig_ref(project, composite_app, version, dig).child(keys.GROUP_INTENTS, name)
    with mapped(orchestrator_error), backend(request).read() as s:
        found = s.objects.get(ref, GroupIntent)
        if found is None:
            raise ModuleError("Intent not found")
    return go_response(GroupIntentSpec(found.spec.intent))


@router.get(B + "/intents/{name}")
async def get_group_intent(
    request: Request, project: str, composite_app: str, version: str, dig: str, name: str
) -> Response:
    """One ``/intents`` entry."""
    ref = dig_ref(project, composite_app, version, dig).child(keys.GROUP_INTENTS, name)
    with mapped(orchestrator_error), backend(request).read() as s:
        found = s.objects.get(ref, GroupIntent)
        if found is None:
            raise ModuleError("Intent not found")
        return go_response(found)


@router.delete(B + "/intents/{name}")
async def delete_group_intent(
    request: Request, project: str, composite_app: str, version: str, dig: str, name: str
) -> Response:
    """Delete an ``/intents`` entry."""
    ref = dig_ref(project, composite_app, version, dig).child(keys.GROUP_INTENTS, name)
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.delete(ref)
    return empty(204)
