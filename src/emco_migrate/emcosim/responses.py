"""Responses written the way Go's net/http handlers in EMCO write them."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import Response

from emco_migrate.wire.structs import go_json

JSON = "application/json"


def go_response(value: Any, status: int = 200, *, content_type: str | None = JSON) -> Response:
    """`json.NewEncoder(w).Encode(value)`: Go escapes and a trailing newline."""
    response = Response(go_json(value), status_code=status)
    if content_type is not None:
        response.headers["content-type"] = content_type
    return response


def text_error(status: int, text: str) -> Response:
    """`http.Error`: text/plain, the message plus a newline."""
    return Response(
        (text + "\n").encode(),
        status_code=status,
        headers={
            "content-type": "text/plain; charset=utf-8",
            "x-content-type-options": "nosniff",
        },
    )


def empty(status: int) -> Response:
    """A status with no body (204, 202 of actions, 405 of the router)."""
    return Response(status_code=status)


def multipart(metadata: Any, file: bytes, filename: str) -> Response:
    """A multipart/form-data answer with the JSON metadata and the file."""
    boundary = secrets.token_hex(16)
    body = b"".join(
        [
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="metadata"\r\n',
            b"Content-Type: application/json\r\n\r\n",
            go_json(metadata),
            f"\r\n--{boundary}\r\n".encode(),
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'.encode(),
            b"Content-Type: application/octet-stream\r\n\r\n",
            file,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    return Response(body, headers={"content-type": f"multipart/form-data; boundary={boundary}"})
