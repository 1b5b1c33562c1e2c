"""Hostile WfTemporalSpec JSON: a `FieldError` naming the field, in bounded time, never a crash.

What a user sees is checked at both doors: the HTTP server's ``POST /invoke`` answers 400 with
a JSON body naming the field, and ``emco-migrate start -a FILE`` prints one line and exits with
`InvalidSpec`'s code. Each call runs in a thread (or a subprocess) with a deadline, so a hang
or an exponential parse fails the test instead of stalling it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from emco_migrate.temporal_connection import TemporalSettings
from emco_migrate.wire import gojson
from emco_migrate.wire.gojson import MAX_DEPTH, FieldError
from emco_migrate.wire.temporal import TemporalSpec, decode_workflow_params
from emco_migrate.workflowclients.errors import InvalidSpec
from emco_migrate.workflowclients.http_server.app import HttpServerSettings, create_app
from emco_migrate.workflowclients.start_options import memo_payloads
from support import waiting

T = TypeVar("T")

DEADLINE = 2.0  # seconds; each case here takes milliseconds
DIGITS = "9" * 5000  # past CPython's 4300-digit int limit


def within_deadline(work: Callable[[], T], seconds: float = DEADLINE) -> T:
    return waiting.within_deadline(work, seconds)


def refused(body: str | bytes) -> FieldError:
    """The `FieldError` parsing ``body`` raises (within the deadline)."""

    def parse() -> FieldError:
        try:
            TemporalSpec.from_json(body)
        except FieldError as err:
            return err
        raise AssertionError("the body was accepted")

    return within_deadline(parse)


def memo(value: str) -> str:
    return '{"workflowStartOptions":{"ID":"x","Memo":{"a":' + value + "}}}"


def nested(depth: int, inner: str = "1") -> str:
    """``inner`` inside ``depth`` arrays."""
    return "[" * depth + inner + "]" * depth


# --------------------------------------------------------------------------- nesting


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (memo(nested(1000)), "workflowStartOptions.Memo.a[0]"),
        (memo('{"a":' * 1000 + "1" + "}" * 1000), "workflowStartOptions.Memo.a.a"),
        (nested(100_000, ""), "[0][0][0][0]"),
        (
            '{"workflowParams":{"activityParams":{"all-activities":' + nested(1000) + "}}}",
            "workflowParams.activityParams.all-activities",
        ),
        ('{"workflowStartOptions":{"SearchAttributes":{"s":' + nested(200) + "}}}", ""),
    ],
)
def test_deep_nesting_is_refused_naming_where(body: str, field: str) -> None:
    err = refused(body)
    assert err.field.startswith(field)
    assert f"nested deeper than {MAX_DEPTH} levels" in err.reason
    assert "line 1 column " in err.reason


def test_nesting_up_to_the_limit_is_accepted_and_re_encoded() -> None:
    # The body is 3 levels (root, workflowStartOptions, Memo); the memo value fills the rest.
    deepest = memo(nested(MAX_DEPTH - 3))
    spec = within_deadline(lambda: TemporalSpec.from_json(deepest))
    assert spec.start_options.memo is not None
    assert nested(MAX_DEPTH - 3) in spec.to_json().decode()
    assert memo_payloads(spec.start_options.memo) is not None
    assert "nested deeper" in refused(memo(nested(MAX_DEPTH - 2))).reason


def test_brackets_inside_strings_do_not_count() -> None:
    text = '"' + "[{" * 5000 + '\\"' + "]}" * 5000 + '"'
    spec = within_deadline(lambda: TemporalSpec.from_json(memo(text)))
    assert spec.start_options.memo == {"a": "[{" * 5000 + '"' + "]}" * 5000}


def test_the_workflow_input_is_bounded_too() -> None:
    with pytest.raises(FieldError, match="nested deeper than 100 levels"):
        within_deadline(
            lambda: decode_workflow_params('{"activityParams":{"a":' + nested(5000) + "}}")
        )


def test_encoding_a_too_deep_value_is_a_wire_error_not_a_recursion_error() -> None:
    value: Any = "x"
    for _ in range(gojson.ENCODE_MAX_DEPTH + 1):
        value = [value]
    with pytest.raises(FieldError, match="nested deeper than 200 levels"):
        gojson.dumps(value)


@pytest.mark.parametrize(
    "body",
    [
        "[" + "[]," * 350_000 + "[]]",  # a megabyte of shallow brackets
        '{"a":"' + '\\"' * 500_000,  # unterminated string full of escaped quotes
        '{"a":' + "[" * 300_000,  # unterminated and deep
    ],
)
def test_megabyte_bodies_are_answered_quickly(body: str) -> None:
    err = refused(body)
    assert err.reason.startswith(("malformed JSON", "expected an object", "JSON nested"))


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("body", "field", "literal"),
    [
        (memo("1e400"), "workflowStartOptions.Memo['a']", "1e400"),
        (memo("-1e400"), "workflowStartOptions.Memo['a']", "-1e400"),
        (memo(DIGITS), "workflowStartOptions.Memo['a']", "99999999999999999999..."),
        (memo("-" + DIGITS + ".5"), "workflowStartOptions.Memo['a']", "-9999999999999999999..."),
        (memo('{"b":[0,1e999]}'), "workflowStartOptions.Memo['a']['b'][1]", "1e999"),
        (
            '{"workflowStartOptions":{"SearchAttributes":{"n":-1e400}}}',
            "workflowStartOptions.SearchAttributes['n']",
            "-1e400",
        ),
        (
            '{"workflowStartOptions":{"RetryPolicy":{"BackoffCoefficient":1e400}}}',
            "workflowStartOptions.RetryPolicy.BackoffCoefficient",
            "1e400",
        ),
    ],
)
def test_numbers_beyond_float64_are_go_type_errors(body: str, field: str, literal: str) -> None:
    err = refused(body)
    assert err.field == field
    assert err.reason.startswith(f"json: cannot unmarshal number {literal}")
    assert err.reason.endswith("into Go value of type float64")
    assert len(err.reason) < 200  # a 5000-digit literal is cut, with its length


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (
            '{"workflowStartOptions":{"WorkflowRunTimeout":' + DIGITS + "}}",
            "workflowStartOptions.WorkflowRunTimeout",
            "(5000 characters) is out of range for an integer number of nanoseconds",
        ),
        (
            '{"workflowStartOptions":{"WorkflowIDReusePolicy":-' + DIGITS + "}}",
            "workflowStartOptions.WorkflowIDReusePolicy",
            "(5001 characters) is out of range",
        ),
        (
            '{"workflowStartOptions":{"RetryPolicy":{"MaximumAttempts":1e400}}}',
            "workflowStartOptions.RetryPolicy.MaximumAttempts",
            "non-integer number 1e400",
        ),
        (
            '{"workflowParams":{"activityOptions":{"a":{"HeartbeatTimeout":' + "1" * 25 + "}}}}",
            "workflowParams.activityOptions['a'].HeartbeatTimeout",
            "1111111111111111111111111 is out of range",
        ),
    ],
)
def test_oversize_numbers_in_integer_fields_name_the_field(
    body: str, field: str, reason: str
) -> None:
    err = refused(body)
    assert err.field == field
    assert reason in err.reason


def test_long_numbers_within_float64_are_float64_as_in_go() -> None:
    body = memo('{"big":' + "9" * 300 + ',"int":' + "1" * 25 + ',"tiny":1e-400}')
    spec = within_deadline(lambda: TemporalSpec.from_json(body))
    assert spec.start_options.memo == {"a": {"big": 1e300, "int": 1.1111111111111111e24, "tiny": 0}}
    assert '"big":1e+300,"int":1.1111111111111111e+24,"tiny":0' in spec.to_json().decode()
    payloads = memo_payloads(spec.start_options.memo)
    assert payloads is not None
    assert payloads["a"].payload.data == b'{"big":1e+300,"int":1.1111111111111111e+24,"tiny":0}'


# --------------------------------------------------------------------------- strings


def test_lone_surrogate_escapes_become_the_replacement_character_as_in_go() -> None:
    body = memo('["\\ud800", "\\udc00x", "\\ud83d\\ude00", "\\\\ud800"]')
    spec = within_deadline(lambda: TemporalSpec.from_json(body))
    assert spec.start_options.memo == {"a": ["\ufffd", "\ufffdx", "\U0001f600", "\\ud800"]}
    payloads = memo_payloads(spec.start_options.memo)
    assert payloads is not None
    assert json.loads(payloads["a"].payload.data) == ["\ufffd", "\ufffdx", "\U0001f600", "\\ud800"]


def test_a_lone_surrogate_in_a_python_string_is_encoded_as_go_encodes_invalid_utf8() -> None:
    assert gojson.dump_bytes({"k": "a\ud800b"}) == b'{"k":"a\\ufffdb"}'


# --------------------------------------------------------------------------- the doors


HOSTILE = [
    (memo(nested(1000)), "workflowStartOptions.Memo.a", "nested deeper than 100 levels"),
    (memo("1e400"), "workflowStartOptions.Memo['a']", "json: cannot unmarshal number 1e400"),
    (memo(DIGITS), "workflowStartOptions.Memo['a']", "into Go value of type float64"),
    (
        '{"workflowStartOptions":{"ID":"x","SearchAttributes":{"s":-1e400}}}',
        "workflowStartOptions.SearchAttributes['s']",
        "json: cannot unmarshal number -1e400",
    ),
    (
        '{"workflowStartOptions":{"ID":"x","WorkflowRunTimeout":' + DIGITS + "}}",
        "workflowStartOptions.WorkflowRunTimeout",
        "is out of range",
    ),
]


def invoke(body: bytes) -> httpx.Response:
    """POST /invoke/migrate_workflowclient to the real app (Temporal unreachable: not needed)."""

    async def post() -> httpx.Response:
        settings = HttpServerSettings(temporal=TemporalSettings(address="127.0.0.1:1"))
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://wfc") as http:
                return await http.post("/invoke/migrate_workflowclient", content=body)

    return within_deadline(lambda: asyncio.run(post()), seconds=10)


@pytest.mark.parametrize(("body", "field", "message"), HOSTILE)
def test_http_server_answers_400_naming_the_field(body: str, field: str, message: str) -> None:
    response = invoke(body.encode())
    assert response.status_code == 400
    answer = response.json()
    assert answer["field"].startswith(field)
    assert message in answer["error"]


def run_start(spec: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "EMCO_"))}
    return subprocess.run(
        [sys.executable, "-m", "emco_migrate", "start", "-a", str(spec)],
        capture_output=True, text=True, timeout=30, env=environment,
    )  # fmt: skip


@pytest.mark.parametrize(("body", "field", "message"), HOSTILE)
def test_start_prints_one_line_naming_the_field(
    tmp_path: Path, body: str, field: str, message: str
) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(body)
    began = time.monotonic()
    result = run_start(spec)
    assert time.monotonic() - began < 20  # the interpreter's start-up included
    assert result.returncode == InvalidSpec.exit_code
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith(f"emco-migrate start: error: {field}")
    assert str(spec) in lines[0]
    assert message in lines[0]
