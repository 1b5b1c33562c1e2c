"""Small assertions and builders shared by the HTTP conformance tests."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

TEXT = "text/plain; charset=utf-8"


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def expect(response: httpx.Response, status: int, text: str | None = None) -> httpx.Response:
    """Assert the status and, if given, EMCO's text/plain error body (with its newline)."""
    assert response.status_code == status, (response.status_code, response.text)
    if text is not None:
        assert response.text == text + "\n"
        assert response.headers["content-type"] == TEXT
    return response


def multipart(metadata: dict[str, Any], content: bytes | None) -> dict[str, Any]:
    """``files=`` for EMCO's multipart uploads: the metadata field and the file part."""
    files: dict[str, Any] = {"metadata": (None, json.dumps(metadata))}
    if content is not None:
        files["file"] = ("file", content)
    return files


def dig_body(name: str, **spec: Any) -> dict[str, Any]:
    """A valid DIG body (``overrideValues: []``), with spec overrides."""
    base = {"compositeProfile": "prof", "version": "r1", "logicalCloud": "lc", "overrideValues": []}
    return {"metadata": {"name": name}, "spec": {**base, **spec}}
