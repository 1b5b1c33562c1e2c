"""Temporal calls with their errors turned into `UserError`s, and protobuf rendering."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message
from temporalio.service import RPCError, RPCStatusCode

from emco_migrate.errors import UserError
from emco_migrate.workflowclients.errors import WorkflowNotFound, as_unreachable

T = TypeVar("T")


async def temporal_call(call: Awaitable[T], workflow_id: str, run_id: str) -> T:
    """Await a Temporal call, turning its transport and lookup errors into `UserError`s."""
    try:
        return await call
    except RPCError as err:
        if (unreachable := as_unreachable(err)) is not None:
            if err.status is RPCStatusCode.DEADLINE_EXCEEDED:
                raise UserError(f"Temporal call timed out: {err.message}") from err
            raise unreachable from err
        if err.status is RPCStatusCode.NOT_FOUND:
            raise WorkflowNotFound(workflow_id, run_id, err.message) from err
        raise UserError(f"Temporal refused the request: {err.message}") from err
    except RuntimeError as err:
        if (unreachable := as_unreachable(err)) is not None:
            raise unreachable from err
        raise


def proto_dict(message: Message) -> dict[str, Any]:
    """A protobuf message as JSON-ready data, keeping proto (snake_case) field names."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def decoded_payloads(value: Any) -> Any:
    """``value`` (a `proto_dict` rendering) with every JSON payload (``{"metadata":
    {"encoding": "json/plain" in base64}, "data": base64}``) replaced by the JSON it holds,
    and every ``binary/null`` payload by null; other payloads are left as they are."""
    if isinstance(value, list):
        return [decoded_payloads(v) for v in value]
    if not isinstance(value, dict):
        return value
    metadata = value.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("encoding"), str):
        encoding = _b64(metadata["encoding"])
        if encoding == b"binary/null":
            return None
        data = value.get("data", "")
        raw = _b64(data) if isinstance(data, str) else None
        if encoding == b"json/plain" and raw is not None:
            try:
                return json.loads(raw)
            except ValueError:
                return value
    return {k: decoded_payloads(v) for k, v in value.items()}


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return None
