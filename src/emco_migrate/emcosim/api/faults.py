"""The emulator's fault API and request log under /emulator/v1 (applied in `fault_injection`).

JSON in and out, keys in lowerCamel; invalid input is a 422 whose body names the field.
``pathRegex`` is an RE2 regular expression (matched in linear time, so no pattern can stall
the emulator); Python-only syntax such as backreferences or lookarounds is refused.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emco_migrate.emcosim.api.admin import field_error, invalid
from emco_migrate.emcosim.backend import backend
from emco_migrate.emcosim.responses import empty
from emco_migrate.emcosim.store.faults import Fault, FaultStore, path_regex_error
from emco_migrate.emcosim.store.requests import LoggedRequest, RequestLog
from emco_migrate.wire.gojson import INT64

router = APIRouter(prefix="/emulator/v1")

MAX_HOLD_SECONDS = 3600.0
MAX_DELAY_SECONDS = 3600.0
MAX_REGEX_LENGTH = 500
SEED_LIMIT = INT64[1]  # SQLite's INTEGER is an int64


def _compiles(value: str | None) -> str | None:
    if value is not None and (reason := path_regex_error(value)) is not None:
        raise ValueError(f"not an RE2 regular expression: {reason}")
    return value


class FaultRequest(BaseModel):
    """Body of ``POST /emulator/v1/faults``: an error fault (``status``) or a hold fault.

    ``count`` defaults to 1 without ``rate`` and to unlimited with it.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    method: str | None = Field(default=None, pattern="^[A-Za-z]+$")
    path_regex: str = Field(alias="pathRegex", min_length=1, max_length=MAX_REGEX_LENGTH)
    status: int | None = Field(default=None, ge=200, le=599, strict=True)
    count: int | None = Field(default=None, ge=1, strict=True)
    delay_seconds: float = Field(
        default=0.0, alias="delaySeconds", ge=0, le=MAX_DELAY_SECONDS, allow_inf_nan=False
    )
    hold_seconds: float | None = Field(
        default=None, alias="holdSeconds", gt=0, le=MAX_HOLD_SECONDS, strict=True
    )
    rate: float | None = Field(default=None, gt=0, le=1, strict=True)
    seed: int | None = Field(default=None, ge=-SEED_LIMIT, le=SEED_LIMIT, strict=True)

    _path_regex_compiles = field_validator("path_regex")(_compiles)

    def conflict(self) -> tuple[str, str] | None:
        """The (field, reason) of a combination of fields that does not make one fault."""
        if self.hold_seconds is None:
            if self.status is None:
                return "status", "required unless holdSeconds is given"
            return None
        if self.status is not None:
            return "status", "a hold fault (holdSeconds) takes no status"
        if "delay_seconds" in self.model_fields_set:
            return "delaySeconds", "a hold fault (holdSeconds) takes no delaySeconds"
        return None

    def hits(self) -> int | None:
        """How many requests the fault may hit; None: unlimited."""
        if self.count is not None:
            return self.count
        return None if self.rate is not None else 1


class RequestQuery(BaseModel):
    """Query of ``GET /emulator/v1/requests``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    method: str | None = Field(default=None, pattern="^[A-Za-z]+$")
    path_regex: str | None = Field(
        default=None, alias="pathRegex", min_length=1, max_length=MAX_REGEX_LENGTH
    )

    _path_regex_compiles = field_validator("path_regex")(_compiles)


def _fault_json(fault: Fault) -> dict[str, Any]:
    return {
        "id": fault.id,
        "method": fault.method,
        "pathRegex": fault.path_regex,
        "status": fault.status,
        "holdSeconds": fault.hold,
        "delaySeconds": fault.delay,
        "rate": fault.rate,
        "seed": fault.seed,
        "hits": fault.hits,
        "remaining": fault.remaining,
    }


def _request_json(entry: LoggedRequest) -> dict[str, Any]:
    return {
        "id": entry.id,
        "method": entry.method,
        "path": entry.path,
        "arrivedAt": entry.arrived_at,
        "appliedAt": entry.applied_at,
        "status": entry.status,
        "faultId": entry.fault_id,
    }


@router.post("/faults")
async def add_fault(request: Request) -> JSONResponse:
    """Make matching /v2 requests fail with ``status``, or hold them and then apply them."""
    try:
        spec = FaultRequest.model_validate_json(await request.body() or b"{}")
    except ValidationError as err:
        return invalid(err)
    if (conflict := spec.conflict()) is not None:
        return field_error(*conflict)
    method = spec.method.upper() if spec.method else None
    with backend(request).write() as s:
        fault = FaultStore(s.tx).add(
            method,
            spec.path_regex,
            status=spec.status,
            count=spec.hits(),
            delay=spec.delay_seconds,
            hold=spec.hold_seconds,
            rate=spec.rate if spec.rate is not None else 1.0,
            seed=spec.seed,
        )
    return JSONResponse(_fault_json(fault), status_code=201)


@router.get("/faults")
async def list_faults(request: Request) -> JSONResponse:
    """Faults with hits left (unlimited ones until cleared)."""
    with backend(request).read() as s:
        return JSONResponse([_fault_json(f) for f in FaultStore(s.tx).all()])


@router.delete("/faults")
async def clear_faults(request: Request) -> Response:
    """Remove every fault (requests already held are still delivered)."""
    be = backend(request)
    with be.write() as s:
        FaultStore(s.tx).clear()
    be.fault_rngs.clear()
    return empty(204)


@router.get("/requests")
async def list_requests(request: Request) -> JSONResponse:
    """The request log: /v2 writes in arrival order, optionally filtered."""
    try:
        query = RequestQuery.model_validate(dict(request.query_params))
    except ValidationError as err:
        return invalid(err)
    method = query.method.upper() if query.method else None
    with backend(request).read() as s:
        entries = RequestLog(s.tx).all(method, query.path_regex)
    return JSONResponse([_request_json(e) for e in entries])


@router.delete("/requests")
async def clear_requests(request: Request) -> Response:
    """Forget the request log."""
    with backend(request).write() as s:
        RequestLog(s.tx).clear()
    return empty(204)
