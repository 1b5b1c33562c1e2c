"""An in-memory stand-in for the few EMCO orchestrator routes the activities call.

For unit tests through `httpx.MockTransport`; end-to-end tests use the real emulator.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

DIG_RE = re.compile(
    r"^/v2/projects/(?P<p>[^/]+)/composite-apps/(?P<ca>[^/]+)/(?P<v>[^/]+)"
    r"/deployment-intent-groups/(?P<dig>[^/]+)(?P<rest>/.*)?$"
)


@dataclass
class FakeEmco:
    """App intents per GPI for one DIG, the revision counter and a request log."""

    app_intents: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    revision: int = 1
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    @classmethod
    def with_app(
        cls, app: str = "collectd", cluster: tuple[str, str] = ("provider1", "cluster1")
    ) -> FakeEmco:
        intent = {
            "metadata": {"name": f"{app}-placement-intent", "description": "keep me"},
            "spec": {
                "app": app,
                "intent": {"allOf": [{"clusterProvider": cluster[0], "cluster": cluster[1]}]},
            },
        }
        return cls(app_intents={"dig1-placement-intent": {intent["metadata"]["name"]: intent}})

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("?")[0]
        self.requests.append((request.method, path))
        queued = self.fail.get((request.method, path))
        if queued:
            return httpx.Response(queued.pop(0), text="injected failure\n")
        match = DIG_RE.match(path)
        if not match:
            return httpx.Response(404, text="404 page not found\n")
        rest = match["rest"] or ""
        if request.method == "GET" and rest == "/generic-placement-intents":
            return httpx.Response(
                200, json=[{"metadata": {"name": g}} for g in self.app_intents] or None
            )
        m = re.fullmatch(r"/generic-placement-intents/([^/]+)/app-intents(?:/([^/]+))?", rest)
        if m:
            gpi, name = m[1], m[2]
            intents = self.app_intents.get(gpi)
            if request.method == "GET" and name is None:
                return httpx.Response(200, json=list(intents.values()) if intents else None)
            if request.method == "PUT" and name is not None:
                if intents is None:
                    return httpx.Response(
                        409, text="Cannot perform requested operation. Parent resource not found\n"
                    )
                body = json.loads(request.content)
                existed = body["metadata"]["name"] in intents
                intents[body["metadata"]["name"]] = body
                return httpx.Response(200 if existed else 201, json=body)
        if request.method == "POST" and rest == "/update":
            self.revision += 1
            return httpx.Response(202, json=self.revision)
        return httpx.Response(404, text="404 page not found\n")

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)
