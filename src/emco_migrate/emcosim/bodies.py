"""Request bodies through EMCO's pipeline: Go decoding, schema check, multipart, Accept rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from emco_migrate.emcosim.errors import HttpError
from emco_migrate.emcosim.jsonschema import schema_errors
from emco_migrate.emcosim.responses import go_response, multipart, text_error
from emco_migrate.emcosim.schemas import Schema
from emco_migrate.wire.gojson import EmptyBody, FieldError
from emco_migrate.wire.structs import encode, from_json

T = TypeVar("T")

MAX_FILE_BYTES = 1 << 30
NOT_MULTIPART = "request Content-Type isn't multipart/form-data"


def schema_message(errors: list[str]) -> str:
    """`ValidateJsonSchemaData`'s error: a header line and one line per error."""
    return "\n".join(["Invalid Input:", *errors])


def decode_bytes(
    data: bytes,
    cls: type[T],
    schema: Schema | None,
    *,
    empty_text: str = "Empty body",
    rewrite: Callable[[str], str] | None = None,
) -> T:
    """Decode (400 empty, 422 undecodable; unknown keys dropped, as Go drops them) and
    validate the re-marshalled struct (400)."""
    try:
        value = from_json(cls, data, first_value=True, keep_unknown=False)
    except EmptyBody:
        raise HttpError(400, empty_text) from None
    except FieldError as err:
        raise HttpError(422, err.go_text) from None
    if schema is not None:
        errors = schema_errors(schema, encode(value))
        if errors:
            message = schema_message(errors)
            raise HttpError(400, rewrite(message) if rewrite else message)
    return value


async def decode_json(
    request: Request,
    cls: type[T],
    schema: Schema | None,
    *,
    empty_text: str = "Empty body",
    rewrite: Callable[[str], str] | None = None,
) -> T:
    """`decode_bytes` of the request body."""
    return decode_bytes(await request.body(), cls, schema, empty_text=empty_text, rewrite=rewrite)


@dataclass(frozen=True)
class Upload:
    """A multipart request: the ``metadata`` form value and the ``file`` part."""

    metadata: bytes
    file: bytes | None


async def read_upload(request: Request) -> Upload:
    """Parse a multipart/form-data body; 422 when it is not one."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise HttpError(422, NOT_MULTIPART)
    try:
        form = await request.form()
    except Exception as err:  # python-multipart reports malformed bodies as various types
        raise HttpError(422, f"multipart: {err}") from None
    try:
        metadata: Any = form.get("metadata")
        if isinstance(metadata, UploadFile):
            metadata_bytes = await metadata.read()
        else:
            metadata_bytes = (metadata or "").encode()
        upload: Any = form.get("file")
        data = await upload.read() if isinstance(upload, UploadFile) else None
    finally:
        await form.close()  # the parts' spooled temporary files
    if data is not None and len(data) > MAX_FILE_BYTES:
        raise HttpError(422, "File Size Exceeds 1 GB")
    return Upload(metadata_bytes, data)


def by_accept(request: Request, metadata: Any, file: bytes, filename: str) -> Response:
    """Answer with metadata, file or both, by the exact ``Accept`` header (EMCO's rules)."""
    accept = request.headers.get("accept", "")
    if accept == "application/json":
        return go_response(metadata)
    if accept == "application/octet-stream":
        return Response(file, headers={"content-type": "application/octet-stream"})
    if accept == "multipart/form-data":
        return multipart(metadata, file, filename)
    if not accept:
        return text_error(406, "Missing Accept header")
    return text_error(
        300, "set Accept: multipart/form-data, application/json or application/octet-stream"
    )
