"""YAML -> Go value -> JSON, as emcoctl (yaml.v3 + encoding/json) turns a spec into a body."""

from __future__ import annotations

import math
from typing import Any

import pytest

from emco_migrate.emcoctl.goyaml import GoYamlError, go_parse_int, load_first, to_json


def value(text: str) -> Any:
    """The value of key ``v`` in a one-line YAML mapping."""
    return load_first(f"v: {text}\n")["v"]


def body(text: str) -> str:
    return to_json(load_first(f"v: {text}\n"))


# Only true/false are booleans in YAML 1.2 (PyYAML's default would turn these into bools).
@pytest.mark.parametrize("text", ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "OFF"])
def test_yaml11_booleans_stay_strings(text: str) -> None:
    assert value(text) == text
    assert body(text) == f'{{"v":"{text}"}}'


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("True", True), ("TRUE", True), ("false", False), ("FALSE", False)],
)
def test_true_and_false_are_booleans(text: str, expected: bool) -> None:
    assert value(text) is expected


@pytest.mark.parametrize("text", ["~", "null", "Null", "NULL", ""])
def test_null_spellings(text: str) -> None:
    assert value(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        ("-5", -5),
        ("+5", 5),
        ("010", 8),  # Go's ParseInt(s, 0, 64): a leading 0 means octal
        ("0o17", 15),
        ("0x10", 16),
        ("0X1f", 31),
        ("-0x10", -16),
        ("0b11", 3),
        ("1_000", 1000),
        ("1_000_000_000", 1_000_000_000),
        ("0", 0),
        ("9223372036854775807", 2**63 - 1),
        ("18446744073709551615", 2**64 - 1),  # uint64 still an integer
    ],
)
def test_integers(text: str, expected: int) -> None:
    got = value(text)
    assert type(got) is int
    assert got == expected
    assert body(text) == f'{{"v":{expected}}}'


@pytest.mark.parametrize(
    ("text", "json_number"),
    [
        ("1e10", "10000000000"),  # whole floats are written as integer literals
        ("60000000000.0", "60000000000"),
        ("6e10", "60000000000"),
        ("1.0", "1"),
        ("08", "8"),  # not octal: falls through to a float
        ("18446744073709551616", "18446744073709552000"),  # beyond uint64
        ("1.5", "1.5"),
        ("-2.25", "-2.25"),
        (".5", "0.5"),
        ("1e21", "1e+21"),
        ("1e-7", "1e-7"),
        ("1_0.5", "10.5"),
        ("1e16", "10000000000000000"),
        ("123456789012345678.0", "123456789012345680"),
    ],
)
def test_floats_and_their_json(text: str, json_number: str) -> None:
    assert type(value(text)) is float
    assert body(text) == f'{{"v":{json_number}}}'


@pytest.mark.parametrize(
    "text",
    ["1e400", "0x", "1.2.3", "12abc", "+", "-x", "2024-01-02", "2001-12-14T21:59:43Z", "1:20"],
)
def test_other_plain_scalars_are_strings(text: str) -> None:
    assert value(text) == text


def test_special_floats_decode_but_do_not_encode() -> None:
    assert math.isinf(value(".inf"))
    assert value("-.Inf") == -math.inf
    assert math.isnan(value(".nan"))
    with pytest.raises(GoYamlError, match="unsupported value: NaN"):
        body(".NaN")
    with pytest.raises(GoYamlError, match=r"unsupported value: \+Inf"):
        body(".inf")


@pytest.mark.parametrize("text", ['"010"', "'yes'", '"true"', '"1e10"', "'~'"])
def test_quoted_scalars_are_strings(text: str) -> None:
    assert value(text) == text[1:-1]


def test_block_scalars_are_strings() -> None:
    assert load_first("v: |\n  010\n")["v"] == "010\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("!!str 010", "010"), ("!!int 010", 8), ("!!float 1", 1.0), ("!!bool true", True)],
)
def test_explicit_tags(text: str, expected: Any) -> None:
    got = value(text)
    assert got == expected
    assert type(got) is type(expected)


def test_explicit_tag_mismatch_is_an_error() -> None:
    with pytest.raises(GoYamlError, match="cannot decode 'yes' as a !!bool"):
        value("!!bool yes")


def test_maps_are_sorted_in_json_and_lists_kept() -> None:
    data = load_first("b: 1\na: [x, 2, on]\nc: {z: 1, y: 2}\n")
    assert to_json(data) == '{"a":["x",2,"on"],"b":1,"c":{"y":2,"z":1}}'


def test_json_uses_go_escapes() -> None:
    assert to_json(load_first('u: "http://h/x?a=1&b=<2>"\n')) == (
        '{"u":"http://h/x?a=1\\u0026b=\\u003c2\\u003e"}'
    )


def test_duplicate_keys_are_an_error() -> None:
    with pytest.raises(GoYamlError, match="mapping key 'a' already defined at line 1"):
        load_first("a: 1\na: 2\n")


def test_merge_keys_explicit_keys_win() -> None:
    data = load_first("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n")
    assert data["m"] == {"x": 1, "y": 3}


def test_anchors_and_aliases() -> None:
    assert load_first("a: &v [1, 2]\nb: *v\n") == {"a": [1, 2], "b": [1, 2]}


def test_non_string_keys_cannot_be_json() -> None:
    data = load_first("m:\n  1: one\n")
    assert data == {"m": {1: "one"}}
    with pytest.raises(GoYamlError, match="not a string"):
        to_json(data)


def test_invalid_yaml_is_reported() -> None:
    with pytest.raises(GoYamlError, match="invalid YAML"):
        load_first("a: [1, 2\n")


def test_empty_stream_has_no_document() -> None:
    assert load_first("# only a comment\n") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("017", 15), ("0b101", 5), ("-0o7", -7), ("0x", None), ("09", None), ("", None)],
)
def test_go_parse_int(text: str, expected: int | None) -> None:
    assert go_parse_int(text) == expected
