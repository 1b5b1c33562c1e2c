"""CLM: cluster providers, clusters (multipart with a kubeconfig) and cluster labels."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from emco_migrate.emcosim import keys, schemas
from emco_migrate.emcosim.backend import backend
from emco_migrate.emcosim.bodies import by_accept, decode_bytes, decode_json, read_upload
from emco_migrate.emcosim.deploy.clouds import clusters_with_label
from emco_migrate.emcosim.errors import HttpError, mapped, orchestrator_error
from emco_migrate.emcosim.responses import empty, go_response
from emco_migrate.emcosim.types.clm import Cluster, ClusterLabel, ClusterProvider, ClusterWithLabels

router = APIRouter()

PROVIDER = "/cluster-providers/{provider}"
CLUSTER = PROVIDER + "/clusters/{cluster}"
_CLUSTER_SCHEMA = schemas.with_metadata(spec={"type": "object"})


@router.post("/cluster-providers")
async def create_provider(request: Request) -> Response:
    """POST a cluster provider."""
    provider = await decode_json(request, ClusterProvider, schemas.METADATA_ONLY)
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = keys.provider(provider.metadata.name)
        s.objects.put(ref, provider, duplicate=HttpError(409, "ClusterProvider already exists"))
    return go_response(provider, 201)


@router.get("/cluster-providers")
async def list_providers(request: Request) -> Response:
    """Every cluster provider (null if none)."""
    with backend(request).read() as s:
        return go_response(s.objects.children(None, keys.PROVIDERS, ClusterProvider) or None)


@router.get(PROVIDER)
async def get_provider(request: Request, provider: str) -> Response:
    """One cluster provider."""
    with backend(request).read() as s:
        found = s.objects.get(keys.provider(provider), ClusterProvider)
    if found is None:
        raise HttpError(404, "Cluster provider not found")
    return go_response(found)


@router.put(PROVIDER)
async def put_provider(request: Request, provider: str) -> Response:
    """Create or replace a cluster provider (201); the body name must match the URL."""
    body = await decode_json(request, ClusterProvider, schemas.METADATA_ONLY)
    if body.metadata.name != provider:
        raise HttpError(400, "Mismatched name in PUT request")
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.put(keys.provider(provider), body)
    return go_response(body, 201)


@router.delete(PROVIDER)
async def delete_provider(request: Request, provider: str) -> Response:
    """Delete a cluster provider without clusters."""
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.delete(keys.provider(provider))
    return empty(204)


@router.post(PROVIDER + "/clusters")
async def create_cluster(request: Request, provider: str) -> Response:
    """POST a cluster: multipart ``metadata`` and ``file`` (kubeconfig); no Content-Type back."""
    upload = await read_upload(request)
    cluster = decode_bytes(upload.metadata, Cluster, _CLUSTER_SCHEMA)
    if upload.file is None and not cluster.spec:
        raise HttpError(422, "Unable to process file")
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = keys.cluster(provider, cluster.metadata.name)
        s.objects.put(ref, cluster, upload.file, duplicate=HttpError(409, "Cluster already exists"))
    return go_response(cluster, 201, content_type=None)


@router.get(PROVIDER + "/clusters")
async def list_clusters(request: Request, provider: str) -> Response:
    """Clusters; ``?label=L`` gives names carrying L, ``?withLabels=true`` adds labels."""
    label = request.query_params.get("label")
    with backend(request).read() as s:
        if label is not None:
            return go_response(clusters_with_label(s, provider, label))
        if not s.objects.exists(keys.provider(provider)):
            raise HttpError(404, "Cluster provider not found")
        clusters = s.objects.children(keys.provider(provider), keys.CLUSTERS, Cluster)
        if request.query_params.get("withLabels") == "true":
            return go_response(
                [
                    ClusterWithLabels(
                        c.metadata,
                        s.objects.children(
                            keys.cluster(provider, c.metadata.name), keys.LABELS, ClusterLabel
                        ),
                    )
                    for c in clusters
                ]
            )
        return go_response(clusters or None)


@router.get(CLUSTER)
async def get_cluster(request: Request, provider: str, cluster: str) -> Response:
    """A cluster as JSON, its kubeconfig, or both, by the Accept header."""
    if not request.headers.get("accept"):
        raise HttpError(406, "Missing Accept header")
    with backend(request).read() as s:
        found = s.objects.get(keys.cluster(provider, cluster), Cluster)
        kubeconfig = s.objects.get_blob(keys.cluster(provider, cluster)) or b""
    if found is None:
        raise HttpError(404, "Cluster not found")
    return by_accept(request, found, kubeconfig, "kubeconfig")


@router.delete(CLUSTER)
async def delete_cluster(request: Request, provider: str, cluster: str) -> Response:
    """Delete a cluster without labels."""
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.delete(keys.cluster(provider, cluster))
    return empty(204)


async def _put_label(request: Request, provider: str, cluster: str, *, create: bool) -> Response:
    label = await decode_json(request, ClusterLabel, schemas.CLUSTER_LABEL)
    with mapped(orchestrator_error), backend(request).write() as s:
        ref = keys.cluster(provider, cluster).child(keys.LABELS, label.label)
        s.objects.put(
            ref, label, duplicate=HttpError(409, "Cluster label already exists") if create else None
        )
    return go_response(label, 201)


@router.post(CLUSTER + "/labels")
async def create_label(request: Request, provider: str, cluster: str) -> Response:
    """Label a cluster."""
    return await _put_label(request, provider, cluster, create=True)


@router.put(CLUSTER + "/labels/{label}")
async def put_label(request: Request, provider: str, cluster: str, label: str) -> Response:
    """Create or replace a label (201)."""
    return await _put_label(request, provider, cluster, create=False)


@router.get(CLUSTER + "/labels")
async def list_labels(request: Request, provider: str, cluster: str) -> Response:
    """The cluster's labels (null if none)."""
    with backend(request).read() as s:
        labels = s.objects.children(keys.cluster(provider, cluster), keys.LABELS, ClusterLabel)
    return go_response(labels or None)


@router.get(CLUSTER + "/labels/{label}")
async def get_label(request: Request, provider: str, cluster: str, label: str) -> Response:
    """One label."""
    with backend(request).read() as s:
        found = s.objects.get(
            keys.cluster(provider, cluster).child(keys.LABELS, label), ClusterLabel
        )
    if found is None:
        raise HttpError(404, "Cluster label not found")
    return go_response(found)


@router.delete(CLUSTER + "/labels/{label}")
async def delete_label(request: Request, provider: str, cluster: str, label: str) -> Response:
    """Remove a label (placements see it at the next instantiate or update)."""
    with mapped(orchestrator_error), backend(request).write() as s:
        s.objects.delete(keys.cluster(provider, cluster).child(keys.LABELS, label))
    return empty(204)
