"""Fault and request-log patterns are RE2: no pattern can make a request take exponential time.

Python's `re` needs about 2**n steps for ``(a+)+$`` or ``(a|aa)*b`` against n letters ``a``
that do not end the way the pattern wants; these tests use thousands, each request with a
client timeout of a few seconds, against the session's emulator subprocess.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from support.emulator import Emulator

DEADLINE = 5.0  # seconds, per request
LETTERS = "a" * 5000


@pytest.fixture
def client(emulator_reset: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator_reset.url, timeout=DEADLINE) as http:
        yield http


def add_fault(client: httpx.Client, body: dict[str, object]) -> httpx.Response:
    return client.post("/emulator/v1/faults", json=body)


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a|aa)*b", "(a*)*y", "^(([a-z])+.)+[A-Z]([a-z])+$"])
def test_catastrophic_patterns_match_in_linear_time(client: httpx.Client, pattern: str) -> None:
    assert client.delete("/emulator/v1/requests").status_code == 204  # other tests' writes
    created = add_fault(client, {"pathRegex": pattern, "status": 503, "count": 5})
    assert created.status_code == 201, created.text
    assert created.json()["pathRegex"] == pattern

    # No match: the request goes through to EMCO (no such project).
    missed = client.get(f"/v2/projects/{LETTERS}!")
    assert missed.status_code == 404
    assert missed.text == "Project not found\n"
    # A write is logged too; the log's own pattern filter is RE2 as well.
    assert client.delete(f"/v2/projects/{LETTERS}!").status_code == 404
    log = client.get("/emulator/v1/requests", params={"pathRegex": pattern})
    assert log.status_code == 200
    assert [entry["path"] for entry in log.json()] == []


def test_a_matching_catastrophic_pattern_still_hits(client: httpx.Client) -> None:
    assert add_fault(client, {"pathRegex": "/(a+)+$", "status": 503}).status_code == 201
    hit = client.get(f"/v2/projects/{LETTERS}")
    assert hit.status_code == 503
    assert hit.text.startswith("emulator fault ")


def test_python_re_syntax_the_tests_use_still_works(client: httpx.Client) -> None:
    path = "/v2/projects/p-1.x/composite-apps/app_1/v1"
    for pattern in (f"^{re.escape(path)}$", r"/projects/[^/]+/composite-apps/\w+/v\d$", "(?i)P-1"):
        created = add_fault(client, {"pathRegex": pattern, "method": "GET", "status": 418})
        assert created.status_code == 201, created.text
        assert client.get(path).status_code == 418, pattern


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\1", "invalid escape sequence"),
        ("x(?=y)", "invalid perl operator"),
        ("(?<!x)y", "invalid perl operator"),
        ("(", "missing )"),
        ("x{1001}", "invalid repetition size"),
    ],
)
def test_patterns_re2_refuses_are_a_422_naming_the_field(
    client: httpx.Client, pattern: str, reason: str
) -> None:
    response = add_fault(client, {"pathRegex": pattern, "status": 503})
    assert response.status_code == 422
    answer = response.json()
    assert answer["field"] == "pathRegex"
    assert "not an RE2 regular expression" in answer["error"]
    assert reason in answer["error"]
    log = client.get("/emulator/v1/requests", params={"pathRegex": pattern})
    assert log.status_code == 422
    assert log.json()["field"] == "pathRegex"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"pathRegex":"x","status":503,"delaySeconds":1e400}', "delaySeconds"),
        (b'{"pathRegex":"x","status":503,"delaySeconds":3601}', "delaySeconds"),
        (b'{"pathRegex":"x","holdSeconds":1e400}', "holdSeconds"),
        (b'{"pathRegex":"x","status":' + b"9" * 5000 + b"}", "body"),
        (b'{"pathRegex":"x","status":503,"junk":' + b"[" * 5000 + b"]" * 5000 + b"}", "body"),
        (b'{"pathRegex":"' + b"a" * 501 + b'","status":503}', "pathRegex"),
    ],
)
def test_hostile_fault_bodies_are_a_422_naming_the_field(
    client: httpx.Client, body: bytes, field: str
) -> None:
    response = client.post("/emulator/v1/faults", content=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert client.get("/emulator/v1/faults").json() == []
