"""workflowmgr: Temporal workflow intents, start, status and cancel (contract section 13).

Every module error is a 500 with the raw text. Status and cancel use the shared Temporal
logic of `emco_migrate.workflowclients.inspection`; status also fills ``workflowResult``
(which EMCO declares but forgets), and cancel implements the intended behaviour instead of
EMCO's uncompilable schema.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import parse_qsl

import httpx
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response
from temporalio.client import Client

from emco_migrate.emcosim import keys, schemas
from emco_migrate.emcosim.api.digs import B, dig_ref
from emco_migrate.emcosim.backend import Backend, backend
from emco_migrate.emcosim.bodies import decode_json
from emco_migrate.emcosim.errors import HttpError
from emco_migrate.emcosim.responses import empty, go_response
from emco_migrate.emcosim.store import Ref
from emco_migrate.emcosim.types.workflow import CancelRequest, WorkflowIntent
from emco_migrate.errors import UserError
from emco_migrate.temporal_connection import (
    TemporalSettings,
    address_from_temporal_server,
    connect,
)
from emco_migrate.workflowclients.errors import QueryFailed
from emco_migrate.workflowclients.inspection import (
    StatusRequest,
    cancel_workflow,
    get_status,
    terminate_workflow,
)

log = logging.getLogger(__name__)
router = APIRouter()

W = B + "/temporal-workflow-intents"
INTENT = W + "/{name}"
NOT_FOUND = "Workflow Intent not found"
STATUS_KEYS = frozenset(
    {"temporalServer", "workflowID", "runID", "queryType", "waitForResult", "runDescribeWfExec",
     "getWfHistory"}
)  # fmt: skip
DEFAULT_TEMPORAL = "localhost:7233"


def _intent_ref(project: str, composite_app: str, version: str, dig: str, name: str) -> Ref:
    return dig_ref(project, composite_app, version, dig).child(keys.WORKFLOW_INTENTS, name)


def _load(request: Request, ref: Ref) -> WorkflowIntent:
    with backend(request).read() as s:
        found = s.objects.get(ref, WorkflowIntent)
    if found is None:
        raise HttpError(500, NOT_FOUND)
    return found


@router.post(W)
async def create_intent(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """POST a workflow intent: 201 with the canonical (Go field name) Temporal spec."""
    intent = await decode_json(request, WorkflowIntent, schemas.WORKFLOW_INTENT, empty_text="EOF")
    with backend(request).write() as s:
        ref = dig_ref(project, composite_app, version, dig).child(
            keys.WORKFLOW_INTENTS, intent.metadata.name
        )
        if s.objects.exists(ref):
            raise HttpError(500, "WorkflowIntent already exists")
        if not s.objects.exists(ref.parent):
            raise HttpError(500, "Creating DB Entry: db Insert parent resource not found")
        s.objects.put(ref, intent)
    return go_response(intent, 201)


@router.get(W)
async def list_intents(
    request: Request, project: str, composite_app: str, version: str, dig: str
) -> Response:
    """Every workflow intent of the DIG (null if none)."""
    parent = dig_ref(project, composite_app, version, dig)
    with backend(request).read() as s:
        return go_response(
            s.objects.children(parent, keys.WORKFLOW_INTENTS, WorkflowIntent) or None
        )


@router.get(INTENT)
async def get_intent(
    request: Request, project: str, composite_app: str, version: str, dig: str, name: str
) -> Response:
    """One workflow intent."""
    return go_response(_load(request, _intent_ref(project, composite_app, version, dig, name)))


@router.delete(INTENT)
async def delete_intent(
    request: Request, project: str, composite_app: str, version: str, dig: str, name: str
) -> Response:
    """Delete a workflow intent (there is no PUT: delete and POST again)."""
    ref = _intent_ref(project, composite_app, version, dig, name)
    with backend(request).write() as s:
        if not s.objects.exists(ref):
            raise HttpError(500, "db Remove resource not found")
        s.objects.delete(ref)
    return empty(204)


def invoke_url(intent: WorkflowIntent) -> str:
    """``http://<endpoint>:<port>/invoke/<workflowClientName>`` (IPv6 hosts bracketed)."""
    host = intent.spec.client.endpoint_name
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass
    port = intent.spec.client.endpoint_port
    return f"http://{host}:{port}/invoke/{intent.spec.temporal.workflow_client_name}"


@router.post(INTENT + "/start")
async def start(
    request: Request, project: str, composite_app: str, version: str, dig: str, name: str
) -> Response:
    """POST the Temporal spec to the workflow client; 204 only if it answered exactly 204."""
    intent = _load(request, _intent_ref(project, composite_app, version, dig, name))
    url = invoke_url(intent)
    body = intent.spec.temporal.to_json()
    log.info("starting workflow intent %s: POST %s (%d bytes)", name, url, len(body))
    try:
        answer = await backend(request).http.post(
            url, content=body, headers={"Content-Type": "application/json"}
        )
    except httpx.HTTPError as err:
        raise HttpError(500, f'Post "{url}": {err or type(err).__name__}') from None
    if answer.status_code != 204:
        status = f"{answer.status_code} {answer.reason_phrase}".strip()
        raise HttpError(500, f"HTTP POST returned status code {status} for URL {url}.\n")
    return empty(204)


async def _temporal(be: Backend, server: str) -> Client:
    address = server or DEFAULT_TEMPORAL
    if address not in be.temporal_clients:
        try:
            settings = TemporalSettings(address=address_from_temporal_server(address))
            be.temporal_clients[address] = await connect(settings)
        except UserError as err:
            raise HttpError(
                500, f"Failed to connect to Temporal server ({address}). Error: {err}"
            ) from None
    return be.temporal_clients[address]


def _strip_quotes(value: str) -> str:
    if value[:1] in ("'", '"'):
        value = value[1:]
    if value[-1:] in ("'", '"'):
        value = value[:-1]
    return value


@router.get(INTENT + "/status")
async def status(
    request: Request, project: str, composite_app: str, version: str, dig: str, name: str
) -> Response:
    """Describe / history / query / wait, as the query string asks; unknown keys are a 400."""
    params: dict[str, str] = {}
    for key, value in parse_qsl(request.url.query, keep_blank_values=True):
        if key not in STATUS_KEYS:
            raise HttpError(400, f"Unknown query parameter: {key}")
        params.setdefault(key, value)
    query = StatusRequest(
        workflow_id=params.get("workflowID", ""),
        run_id=params.get("runID", ""),
        describe=params.get("runDescribeWfExec") == "true",
        history=params.get("getWfHistory") == "true",
        query_type=params.get("queryType", ""),
        wait=params.get("waitForResult") == "true",
    )
    client = await _temporal(backend(request), _strip_quotes(params.get("temporalServer", "")))
    try:
        found = await get_status(client, query)
    except QueryFailed as err:
        raise HttpError(500, f"Query failed ({query.query_type}). Error: {err}") from None
    except UserError as err:
        raise HttpError(500, str(err)) from None
    return go_response(found.to_emco_dict())


@router.post(INTENT + "/cancel")
async def cancel(
    request: Request, project: str, composite_app: str, version: str, dig: str, name: str
) -> Response:
    """Cancel, or terminate with reason and details; the ID defaults to the intent's."""
    body = await decode_json(request, CancelRequest, None, empty_text="EOF")
    spec = body.spec
    if not spec.temporal_server:
        raise HttpError(400, ":: Temporal Server endpoint is required.")
    intent = _load(request, _intent_ref(project, composite_app, version, dig, name))
    workflow_id = spec.workflow_id or intent.spec.temporal.start_options.id
    client = await _temporal(backend(request), spec.temporal_server)
    try:
        if spec.terminate:
            await terminate_workflow(
                client,
                workflow_id,
                run_id=spec.run_id,
                reason=spec.reason,
                details=spec.details or (),
            )
        else:
            await cancel_workflow(client, workflow_id, run_id=spec.run_id, reason=spec.reason)
    except UserError as err:
        raise HttpError(500, str(err)) from None
    return empty(204)
