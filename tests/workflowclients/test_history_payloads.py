"""`status --history` shows payloads as the JSON they hold."""

from __future__ import annotations

import base64
from typing import Any

from emco_migrate.workflowclients.inspection.calls import decoded_payloads


def test_history_payloads_read_as_json() -> None:
    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    event: dict[str, Any] = {
        "event_id": "1",
        "input": {
            "payloads": [
                {"metadata": {"encoding": b64("json/plain")}, "data": b64('{"a": [1, "x"]}')},
                {"metadata": {"encoding": b64("binary/null")}},
                {"metadata": {"encoding": b64("binary/protobuf")}, "data": b64("\x08\x01")},
                {"metadata": {"encoding": b64("json/plain")}, "data": "not base64!"},
            ]
        },
    }
    [decoded] = decoded_payloads([event])
    assert decoded["event_id"] == "1"
    assert decoded["input"]["payloads"][:2] == [{"a": [1, "x"]}, None]
    assert decoded["input"]["payloads"][2:] == event["input"]["payloads"][2:]  # left alone
