"""DCM: logical clouds, their cluster references, and their lifecycle (contract section 12).

Logical-cloud instantiation is immediate in the emulator; what matters to DIGs is the last
action of the cloud's log (instantiated or not) and its current cluster references.
"""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from emco_migrate.emcosim import keys, schemas
from emco_migrate.emcosim.backend import backend
from emco_migrate.emcosim.bodies import decode_json
from emco_migrate.emcosim.deploy.clouds import cluster_exists, logical_cloud_members
from emco_migrate.emcosim.deploy.lifecycle import RUNNING
from emco_migrate.emcosim.deploy.session import Session
from emco_migrate.emcosim.errors import HttpError, mapped, orchestrator_error
from emco_migrate.emcosim.keys import DigId
from emco_migrate.emcosim.responses import empty, go_response
from emco_migrate.emcosim.store import Ref
from emco_migrate.emcosim.store.states import State, StateInfo
from emco_migrate.emcosim.types.dcm import LogicalCloud
from emco_migrate.wire.emco import ClusterReference, CompositeApp, DeploymentIntentGroup
from emco_migrate.wire.structs import encode

router = APIRouter()

LCS = "/projects/{project}/logical-clouds"
LC = LCS + "/{cloud}"
_SCHEMA = schemas.with_metadata(spec={"type": "object"})
INSTANTIATED_TEXT = "The Logical Cloud is instantiated, please terminate first."


def _with_default_level(cloud: LogicalCloud) -> LogicalCloud:
    if cloud.spec.level:
        return cloud
    return dataclasses.replace(cloud, spec=dataclasses.replace(cloud.spec, level="1"))


def _require(s: Session, ref: Ref) -> StateInfo:
    if s.objects.get(ref, LogicalCloud) is None:
        raise HttpError(404, "Logical Cloud not found")
    return s.states.get(ref) or StateInfo()


@router.post(LCS)
async def create_logical_cloud(request: Request, project: str) -> Response:
    """POST a logical cloud (level defaults to "1")."""
    cloud = _with_default_level(await decode_json(request, LogicalCloud, _SCHEMA))
    with mapped(orchestrator_error), backend(request).write() as s:
        if not s.objects.exists(keys.project(project)):
            raise HttpError(404, "Project not found")
        ref = keys.logical_cloud(project, cloud.metadata.name)
        s.objects.put(ref, cloud, duplicate=HttpError(409, "Logical Cloud already exists"))
        s.states.put(ref, StateInfo().add(State.CREATED, s.now))
    return go_response(cloud, 201)


@router.get(LCS)
async def list_logical_clouds(request: Request, project: str) -> Response:
    """Every logical cloud of the project (null if none)."""
    with backend(request).read() as s:
        clouds = s.objects.children(keys.project(project), keys.LOGICAL_CLOUDS, LogicalCloud)
    return go_response(clouds or None)


@router.get(LC)
async def get_logical_cloud(request: Request, project: str, cloud: str) -> Response:
    """One logical cloud."""
    with backend(request).read() as s:
        found = s.objects.get(keys.logical_cloud(project, cloud), LogicalCloud)
    if found is None:
        raise HttpError(404, "Logical Cloud not found")
    return go_response(found)


@router.put(LC)
async def put_logical_cloud(request: Request, project: str, cloud: str) -> Response:
    """Create or replace (201); the body name must match the URL."""
    body = _with_default_level(await decode_json(request, LogicalCloud, _SCHEMA))
    if body.metadata.name != cloud:
        raise HttpError(400, "Logical Cloud name mismatch")
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = keys.logical_cloud(project, cloud)
        if not s.objects.exists(ref):
            s.states.put(ref, StateInfo().add(State.CREATED, s.now))
        s.objects.put(ref, body)
    return go_response(body, 201)


@router.delete(LC)
async def delete_logical_cloud(request: Request, project: str, cloud: str) -> Response:
    """Delete a logical cloud that is not instantiated and has no cluster references."""
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = keys.logical_cloud(project, cloud)
        if _require(s, ref).current == State.INSTANTIATED:
            raise HttpError(409, INSTANTIATED_TEXT)
        s.objects.delete(ref)
        s.states.delete(ref)
    return empty(204)


# ------------------------------------------------------------------------ cluster references


async def _put_reference(request: Request, project: str, cloud: str, *, create: bool) -> Response:
    reference = await decode_json(request, ClusterReference, _SCHEMA)
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = keys.logical_cloud(project, cloud).child(
            keys.CLUSTER_REFERENCES, reference.metadata.name
        )
        s.objects.put(
            ref,
            reference,
            duplicate=HttpError(409, "Cluster Reference already exists") if create else None,
        )
    return go_response(reference, 201)


@router.post(LC + "/cluster-references")
async def create_reference(request: Request, project: str, cloud: str) -> Response:
    """Add a cluster to a logical cloud."""
    return await _put_reference(request, project, cloud, create=True)


@router.put(LC + "/cluster-references/{name}")
async def put_reference(request: Request, project: str, cloud: str, name: str) -> Response:
    """Create or replace a cluster reference (201)."""
    return await _put_reference(request, project, cloud, create=False)


@router.get(LC + "/cluster-references")
async def list_references(request: Request, project: str, cloud: str) -> Response:
    """The logical cloud's cluster references (null if none)."""
    with backend(request).read() as s:
        refs = s.objects.children(
            keys.logical_cloud(project, cloud), keys.CLUSTER_REFERENCES, ClusterReference
        )
    return go_response(refs or None)


@router.get(LC + "/cluster-references/{name}")
async def get_reference(request: Request, project: str, cloud: str, name: str) -> Response:
    """One cluster reference."""
    ref = keys.logical_cloud(project, cloud).child(keys.CLUSTER_REFERENCES, name)
    with backend(request).read() as s:
        found = s.objects.get(ref, ClusterReference)
    if found is None:
        raise HttpError(404, "Cluster Reference not found")
    return go_response(found)


@router.delete(LC + "/cluster-references/{name}")
async def delete_reference(request: Request, project: str, cloud: str, name: str) -> Response:
    """Remove a cluster reference while the logical cloud is not instantiated."""
    cloud_ref = keys.logical_cloud(project, cloud)
    with mapped(orchestrator_error), backend(request).write() as s:
        if (s.states.get(cloud_ref) or StateInfo()).current == State.INSTANTIATED:
            raise HttpError(409, INSTANTIATED_TEXT)
        s.objects.delete(cloud_ref.child(keys.CLUSTER_REFERENCES, name))
    return empty(204)


# --------------------------------------------------------------------------------- actions


def _deployed_digs(s: Session, project: str, cloud: str) -> list[str]:
    names = []
    for app in s.objects.children(keys.project(project), keys.COMPOSITE_APPS, CompositeApp):
        app_ref = keys.composite_app(project, app.metadata.name, app.spec.version)
        for dig in s.objects.children(app_ref, keys.DIGS, DeploymentIntentGroup):
            dig_id = DigId(project, app.metadata.name, app.spec.version, dig.metadata.name)
            info = s.states.get(dig_id.ref)
            if dig.spec.logical_cloud == cloud and info and info.current in RUNNING:
                names.append(dig.metadata.name)
    return names


@router.post(LC + "/instantiate")
async def instantiate(request: Request, project: str, cloud: str) -> Response:
    """Instantiate the logical cloud (immediate): 202."""
    with backend(request).write() as s:
        ref = keys.logical_cloud(project, cloud)
        info = _require(s, ref)
        if info.current == State.INSTANTIATED:
            raise HttpError(409, "The Logical Cloud is already instantiated.")
        if not logical_cloud_members(s, project, cloud):
            raise HttpError(400, "The Logical Cloud has no cluster references.")
        info = info.add(State.INSTANTIATED, s.now, instance=s.new_context_id())
        s.states.put(ref, dataclasses.replace(info, status_context=info.last_context))
    return empty(202)


@router.post(LC + "/terminate")
async def terminate(request: Request, project: str, cloud: str) -> Response:
    """Terminate the logical cloud once no DIG is deployed on it: 202."""
    with backend(request).write() as s:
        ref = keys.logical_cloud(project, cloud)
        info = _require(s, ref)
        if info.current != State.INSTANTIATED:
            raise HttpError(409, "The Logical Cloud is not instantiated.")
        digs = _deployed_digs(s, project, cloud)
        if digs:
            raise HttpError(
                409, f"The Logical Cloud is in use by instantiated DIGs: {', '.join(digs)}"
            )
        s.states.put(ref, info.add(State.TERMINATED, s.now, instance=info.last_context))
    return empty(202)


@router.post(LC + "/update")
async def update(request: Request, project: str, cloud: str) -> Response:
    """Apply cluster reference changes (nothing to do in the emulator): 202."""
    with backend(request).read() as s:
        if _require(s, keys.logical_cloud(project, cloud)).current != State.INSTANTIATED:
            raise HttpError(409, "The Logical Cloud is not instantiated.")
    return empty(202)


@router.post(LC + "/stop")
async def stop(request: Request, project: str, cloud: str) -> Response:
    """Stop an instantiation in progress (there never is one here): 200."""
    with backend(request).read() as s:
        _require(s, keys.logical_cloud(project, cloud))
    return empty(200)


@router.get(LC + "/status")
async def status(request: Request, project: str, cloud: str) -> Response:
    """The logical cloud's action log, status and member clusters' connectivity."""
    with backend(request).read() as s:
        info = _require(s, keys.logical_cloud(project, cloud))
        report: dict[str, object] = {"project": project, "name": cloud, "states": encode(info)}
        if info.last_context:
            report["status"] = info.current.value
        report["clusters"] = [
            {
                "clusterProvider": member.provider,
                "cluster": member.cluster,
                "readyStatus": s.rollout.connectivity(
                    *member, known=cluster_exists(s, member)
                ).value,
            }
            for member in logical_cloud_members(s, project, cloud)
        ]
    return go_response(report)
