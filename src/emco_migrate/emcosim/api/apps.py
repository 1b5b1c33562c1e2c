"""Orchestrator: apps, composite profiles and app profiles (multipart uploads, Accept rules)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from emco_migrate.emcosim import keys, schemas
from emco_migrate.emcosim.backend import backend
from emco_migrate.emcosim.bodies import by_accept, decode_bytes, decode_json, read_upload
from emco_migrate.emcosim.deploy.charts import ChartError, check_tgz
from emco_migrate.emcosim.errors import (
    GENERIC_500,
    HttpError,
    ModuleError,
    mapped,
    orchestrator_error,
)
from emco_migrate.emcosim.responses import empty, go_response
from emco_migrate.emcosim.store import Ref
from emco_migrate.emcosim.types.orchestrator import AppProfile
from emco_migrate.wire.emco import MetadataOnly

router = APIRouter()

CA = "/projects/{project}/composite-apps/{composite_app}/{version}"
PROFILES = CA + "/composite-profiles/{profile}/profiles"
_PROFILE_SCHEMA = schemas.with_metadata(spec={"type": "object"})


def _chart(data: bytes | None) -> bytes:
    """The uploaded file, checked like EMCO's `IsTarGz`."""
    if data is None:
        raise HttpError(422, "Unable to process file")
    try:
        check_tgz(data)
    except ChartError:
        raise HttpError(422, "Error in file format") from None
    return data


def _accept_first(request: Request) -> None:
    accept = request.headers.get("accept", "")
    if not accept:
        raise HttpError(406, "Missing Accept header")


# ------------------------------------------------------------------------------------ apps


async def _upload_app(request: Request, app_ref: Ref, *, create: bool) -> Response:
    upload = await read_upload(request)
    app = decode_bytes(upload.metadata, MetadataOnly, schemas.METADATA_ONLY)
    chart = _chart(upload.file)
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = app_ref.child(keys.APPS, app.metadata.name)
        s.objects.put(
            ref, app, chart, duplicate=ModuleError("App already exists") if create else None
        )
    return go_response(app, 201)


@router.post(CA + "/apps")
async def create_app(request: Request, project: str, composite_app: str, version: str) -> Response:
    """POST an app: multipart ``metadata`` field and ``file`` (a helm chart tgz)."""
    return await _upload_app(
        request, keys.composite_app(project, composite_app, version), create=True
    )


@router.put(CA + "/apps/{app}")
async def put_app(
    request: Request, project: str, composite_app: str, version: str, app: str
) -> Response:
    """Create or replace an app (201), keyed by the metadata name."""
    return await _upload_app(
        request, keys.composite_app(project, composite_app, version), create=False
    )


@router.get(CA + "/apps")
async def list_apps(request: Request, project: str, composite_app: str, version: str) -> Response:
    """The apps' metadata (null if none)."""
    parent = keys.composite_app(project, composite_app, version)
    with mapped(orchestrator_error), backend(request).read() as s:
        if not s.objects.exists(parent):
            raise ModuleError("CompositeApp not found")
        return go_response(s.objects.children(parent, keys.APPS, MetadataOnly) or None)


@router.get(CA + "/apps/{app}")
async def get_app(
    request: Request, project: str, composite_app: str, version: str, app: str
) -> Response:
    """An app as JSON, its chart, or both, by the Accept header."""
    _accept_first(request)
    ref = keys.composite_app(project, composite_app, version).child(keys.APPS, app)
    with mapped(orchestrator_error), backend(request).read() as s:
        found = s.objects.get(ref, MetadataOnly)
        if found is None:
            raise ModuleError("App not found")
        chart = s.objects.get_blob(ref) or b""
    return by_accept(request, found, chart, f"{app}.tgz")


@router.delete(CA + "/apps/{app}")
async def delete_app(
    request: Request, project: str, composite_app: str, version: str, app: str
) -> Response:
    """Delete an app."""
    ref = keys.composite_app(project, composite_app, version).child(keys.APPS, app)
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.delete(ref)
    return empty(204)


# ------------------------------------------------------------------------ composite profiles


def _composite_profiles(project: str, composite_app: str, version: str) -> Ref:
    return keys.composite_app(project, composite_app, version)


@router.post(CA + "/composite-profiles")
async def create_composite_profile(
    request: Request, project: str, composite_app: str, version: str
) -> Response:
    """POST a composite profile."""
    profile = await decode_json(request, MetadataOnly, schemas.METADATA_ONLY)
    parent = _composite_profiles(project, composite_app, version)
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = parent.child(keys.COMPOSITE_PROFILES, profile.metadata.name)
        s.objects.put(ref, profile, duplicate=ModuleError("CompositeProfile already exists"))
    return go_response(profile, 201)


@router.put(CA + "/composite-profiles/{profile}")
async def put_composite_profile(
    request: Request, project: str, composite_app: str, version: str, profile: str
) -> Response:
    """Create or replace a composite profile (201)."""
    body = await decode_json(request, MetadataOnly, schemas.METADATA_ONLY)
    parent = _composite_profiles(project, composite_app, version)
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.put(parent.child(keys.COMPOSITE_PROFILES, body.metadata.name), body)
    return go_response(body, 201)


@router.get(CA + "/composite-profiles")
async def list_composite_profiles(
    request: Request, project: str, composite_app: str, version: str
) -> Response:
    """Every composite profile (null if none)."""
    parent = _composite_profiles(project, composite_app, version)
    with backend(request).read() as s:
        return go_response(
            s.objects.children(parent, keys.COMPOSITE_PROFILES, MetadataOnly) or None
        )


@router.get(CA + "/composite-profiles/{profile}")
async def get_composite_profile(
    request: Request, project: str, composite_app: str, version: str, profile: str
) -> Response:
    """One composite profile."""
    ref = _composite_profiles(project, composite_app, version).child(
        keys.COMPOSITE_PROFILES, profile
    )
    with mapped(orchestrator_error), backend(request).read() as s:
        found = s.objects.get(ref, MetadataOnly)
        if found is None:
            raise ModuleError("CompositeProfile not found")
        return go_response(found)


@router.delete(CA + "/composite-profiles/{profile}")
async def delete_composite_profile(
    request: Request, project: str, composite_app: str, version: str, profile: str
) -> Response:
    """Delete a composite profile without app profiles."""
    ref = _composite_profiles(project, composite_app, version).child(
        keys.COMPOSITE_PROFILES, profile
    )
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.delete(ref)
    return empty(204)


# ------------------------------------------------------------------------------ app profiles


def _profiles_ref(project: str, composite_app: str, version: str, profile: str) -> Ref:
    return keys.composite_app(project, composite_app, version).child(
        keys.COMPOSITE_PROFILES, profile
    )


async def _upload_profile(request: Request, parent: Ref, *, create: bool) -> Response:
    upload = await read_upload(request)
    profile = decode_bytes(upload.metadata, AppProfile, _PROFILE_SCHEMA)
    content = _chart(upload.file)
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = parent.child(keys.PROFILES, profile.metadata.name)
        if create and s.objects.exists(ref):
            raise ModuleError("AppProfile already exists")
        others = s.objects.children(parent, keys.PROFILES, AppProfile)
        if any(
            p.spec.app == profile.spec.app and p.metadata.name != profile.metadata.name
            for p in others
        ):
            raise ModuleError("App already has an AppProfile")
        s.objects.put(ref, profile, content)
    return go_response(profile, 201)


@router.post(PROFILES)
async def create_profile(
    request: Request, project: str, composite_app: str, version: str, profile: str
) -> Response:
    """POST an app profile: multipart ``metadata`` (with ``spec.app``) and ``file``."""
    parent = _profiles_ref(project, composite_app, version, profile)
    return await _upload_profile(request, parent, create=True)


@router.put(PROFILES + "/{name}")
async def put_profile(
    request: Request, project: str, composite_app: str, version: str, profile: str, name: str
) -> Response:
    """Create or replace an app profile (201)."""
    parent = _profiles_ref(project, composite_app, version, profile)
    return await _upload_profile(request, parent, create=False)


@router.get(PROFILES)
async def list_profiles(
    request: Request, project: str, composite_app: str, version: str, profile: str
) -> Response:
    """Every app profile as JSON; with ``?app=X`` the profile of app X by Accept."""
    parent = _profiles_ref(project, composite_app, version, profile)
    app = request.query_params.get("app")
    if app is None:
        with backend(request).read() as s:
            return go_response(s.objects.children(parent, keys.PROFILES, AppProfile) or None)
    _accept_first(request)
    with mapped(orchestrator_error), backend(request).read() as s:
        for found, content in s.objects.children_with_files(parent, keys.PROFILES, AppProfile):
            if found.spec.app == app:
                return by_accept(request, found, content or b"", f"{found.metadata.name}.tgz")
        raise ModuleError("AppProfile not found")


@router.get(PROFILES + "/{name}")
async def get_profile(
    request: Request, project: str, composite_app: str, version: str, profile: str, name: str
) -> Response:
    """One app profile by Accept (asking with both a name and ``?app=`` is a 500)."""
    if "app" in request.query_params:
        raise HttpError(500, GENERIC_500)
    _accept_first(request)
    ref = _profiles_ref(project, composite_app, version, profile).child(keys.PROFILES, name)
    with mapped(orchestrator_error), backend(request).read() as s:
        found = s.objects.get(ref, AppProfile)
        if found is None:
            raise ModuleError("AppProfile not found")
        content = s.objects.get_blob(ref) or b""
    return by_accept(request, found, content, f"{name}.tgz")


@router.delete(PROFILES + "/{name}")
async def delete_profile(
    request: Request, project: str, composite_app: str, version: str, profile: str, name: str
) -> Response:
    """Delete an app profile."""
    ref = _profiles_ref(project, composite_app, version, profile).child(keys.PROFILES, name)
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.delete(ref)
    return empty(204)
