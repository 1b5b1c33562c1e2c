"""YAML read the way emcoctl's Go code reads it (gopkg.in/yaml.v3), and JSON written like Go.

PyYAML parses the text; scalars are then resolved with yaml.v3's rules instead of PyYAML's
YAML 1.1 ones: only ``true``/``false`` (and their ``True``/``TRUE`` spellings) are booleans, so
``yes``/``no``/``on``/``off`` stay strings; integers follow Go's ``strconv.ParseInt(s, 0, 64)``
after removing ``_`` (``010`` is 8, ``0x10`` 16, ``0b11`` 3, ``1_000`` 1000); what is not an
integer but looks like a decimal float becomes a float (``1e10``, ``60000000000.0``, ``08``);
timestamps stay strings; duplicate mapping keys are an error. `emco_migrate.emcoctl.gojson`
then writes the values as Go's ``json.Marshal`` does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# Tag given to plain (unquoted, untagged) scalars so they reach `resolve_plain`.
_PLAIN_TAG = "tag:emco-migrate,2024:plain"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_YAML = "tag:yaml.org,2002:"

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT64_MAX = 2**64 - 1

# yaml.v3: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, tried when ParseInt fails.
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?", re.ASCII)
# What Go's ParseFloat accepts for text that starts with '.' (yaml.v3 tries it as is).
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?", re.ASCII)

_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULLS = {"", "~", "null", "Null", "NULL"}
_SPECIAL_FLOATS = {
    ".nan": math.nan,
    ".NaN": math.nan,
    ".NAN": math.nan,
    ".inf": math.inf,
    ".Inf": math.inf,
    ".INF": math.inf,
    "+.inf": math.inf,
    "+.Inf": math.inf,
    "+.INF": math.inf,
    "-.inf": -math.inf,
    "-.Inf": -math.inf,
    "-.INF": -math.inf,
}


class GoYamlError(ValueError):
    """YAML that emcoctl (yaml.v3 + encoding/json) would refuse."""


class _Loader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    yaml.resolver.BaseResolver,
):
    """Parser and composer only: no PyYAML type resolution, plain scalars are marked."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.resolver.BaseResolver.__init__(self)

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        if kind is ScalarNode and implicit[0]:
            return _MERGE_TAG if value == "<<" else _PLAIN_TAG
        return str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]


def compose_all(text: str) -> list[Node]:
    """Parse every document of a YAML stream into nodes; raises `GoYamlError`."""
    loader = _Loader(text)
    try:
        nodes: list[Node] = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                nodes.append(node)
        return nodes
    except yaml.YAMLError as err:
        raise GoYamlError(f"invalid YAML: {err}") from None
    finally:
        loader.dispose()


def load_first(text: str) -> Any:
    """The first document as Go's ``interface{}`` would hold it (None if there is none)."""
    nodes = compose_all(text)
    return to_value(nodes[0]) if nodes else None


# --------------------------------------------------------------------------- scalars


def go_parse_int(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 0, 64)`` without the range check; None if invalid."""
    body = text
    negative = False
    if body[:1] in ("+", "-"):
        negative = body[0] == "-"
        body = body[1:]
    base, digits = 10, body
    if len(body) >= 2 and body[0] == "0":
        prefix = body[1]
        if prefix in "xX":
            base, digits = 16, body[2:]
        elif prefix in "oO":
            base, digits = 8, body[2:]
        elif prefix in "bB":
            base, digits = 2, body[2:]
        else:
            base, digits = 8, body[1:]
    allowed = "0123456789abcdef"[:base]
    if not digits or any(c.lower() not in allowed for c in digits):
        return None
    value = int(digits, base)
    return -value if negative else value


def _int_or_float(plain: str) -> int | float | None:
    """yaml.v3's number branch for text starting with a digit or a sign."""
    value = go_parse_int(plain)
    if value is not None:
        if INT64_MIN <= value <= INT64_MAX:
            return value
        if plain[0] not in "+-" and value <= UINT64_MAX:  # ParseUint takes no sign
            return value
    if _YAML_STYLE_FLOAT.fullmatch(plain):
        number = float(plain)
        if not math.isinf(number):  # Go's ParseFloat fails on overflow: it stays a string
            return number
    return None


def resolve_plain(text: str) -> Any:
    """Resolve an untagged plain scalar the way yaml.v3 does for an ``interface{}``."""
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    first = text[0]
    if first == ".":
        if _DOT_FLOAT.fullmatch(text):
            number = float(text)
            if not math.isinf(number):
                return number
        return text
    if first.isascii() and (first.isdigit() or first in "+-"):
        resolved = _int_or_float(text.replace("_", ""))
        if resolved is not None:
            return resolved
    return text


def _tagged_scalar(node: ScalarNode) -> Any:
    tag = node.tag
    if tag == _YAML + "str" or tag == _YAML + "timestamp" or not tag.startswith(_YAML):
        # Local tags (`!foo`) are not resolvable in yaml.v3: the text is kept as a string.
        return node.value
    kind = tag[len(_YAML) :]
    value = resolve_plain(node.value)
    if kind == "null" and value is None:
        return None
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind in ("null", "bool", "int", "float"):
        raise GoYamlError(f"line {_line(node)}: cannot decode {node.value!r} as a !!{kind}")
    raise GoYamlError(f"line {_line(node)}: the YAML tag !!{kind} is not supported here")


def scalar_value(node: ScalarNode) -> Any:
    """The Go ``interface{}`` value of a scalar node."""
    if node.tag == _PLAIN_TAG:
        return resolve_plain(node.value)
    return _tagged_scalar(node)


def scalar_text(node: Node, what: str) -> str:
    """A scalar decoded into a Go ``string`` field: its text, or "" for null."""
    if not isinstance(node, ScalarNode):
        raise GoYamlError(f"line {_line(node)}: {what} must be a string, not a {_kind(node)}")
    if node.tag in (_PLAIN_TAG, _YAML + "null") and resolve_plain(node.value) is None:
        return ""
    return str(node.value)


# --------------------------------------------------------------------------- collections


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "mapping"
    if isinstance(node, SequenceNode):
        return "sequence"
    return "scalar"


def mapping_items(node: MappingNode) -> Iterator[tuple[Node, Node]]:
    """Key/value nodes with merge keys (``<<``) applied; duplicate keys are an error."""
    seen: dict[Any, int] = {}
    explicit: list[tuple[Node, Node]] = []
    merged: list[tuple[Node, Node]] = []
    for key, value in node.value:
        if key.tag == _MERGE_TAG:
            merged.extend(_merge_sources(value))
            continue
        hashable = _key(key)
        if hashable in seen:
            raise GoYamlError(
                f"line {_line(key)}: mapping key {key.value!r} already defined at line "
                f"{seen[hashable]}"
            )
        seen[hashable] = _line(key)
        explicit.append((key, value))
    # yaml.v3: explicit keys win over merged ones, and earlier merge sources over later ones.
    for key, value in merged:
        hashable = _key(key)
        if hashable not in seen:
            seen[hashable] = _line(key)
            yield key, value
    yield from explicit


def _merge_sources(value: Node) -> list[tuple[Node, Node]]:
    if isinstance(value, MappingNode):
        return list(mapping_items(value))
    if isinstance(value, SequenceNode) and all(isinstance(v, MappingNode) for v in value.value):
        items: list[tuple[Node, Node]] = []
        for source in value.value:
            items.extend(mapping_items(source))
        return items
    raise GoYamlError(f"line {_line(value)}: map merge requires a mapping or a list of mappings")


def _key(node: Node) -> Any:
    if isinstance(node, ScalarNode):
        value = scalar_value(node)
        # Keep 1, 1.0 and true apart, as Go's interface{} keys are.
        return (type(value).__name__, value)
    raise GoYamlError(f"line {_line(node)}: a {_kind(node)} cannot be a mapping key here")


def to_value(node: Node, _active: frozenset[int] = frozenset()) -> Any:
    """Convert a node to the Go ``interface{}`` value yaml.v3 would produce.

    Mappings become dicts (keys resolved like values, so ``1:`` gives an int key), sequences
    lists. Recursive aliases are an error.
    """
    if id(node) in _active:
        raise GoYamlError(f"line {_line(node)}: recursive alias")
    if isinstance(node, ScalarNode):
        return scalar_value(node)
    active = _active | {id(node)}
    if isinstance(node, SequenceNode):
        return [to_value(item, active) for item in node.value]
    if isinstance(node, MappingNode):
        return {_key(k)[1]: to_value(v, active) for k, v in mapping_items(node)}
    raise GoYamlError(f"line {_line(node)}: unexpected YAML node")
