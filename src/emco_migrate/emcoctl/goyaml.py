"""YAML read the way emcoctl's Go code reads it (gopkg.in/yaml.v3), and JSON written like Go.

PyYAML parses the text; scalars are then resolved with yaml.v3's rules instead of PyYAML's
YAML 1.1 ones: only ``true``/``false`` (and their ``True``/``TRUE`` spellings) are booleans, so
``yes``/``no``/``on``/``off`` stay strings; integers follow Go's ``strconv.ParseInt(s, 0, 64)``
after removing ``_`` (``010`` is 8, ``0x10`` 16, ``0b11`` 3, ``1_000`` 1000); what is not an
integer but looks like a decimal float becomes a float (``1e10``, ``60000000000.0``, ``08``);
timestamps stay strings; duplicate mapping keys are an error. `json_ready` then checks that
Go's ``json.Marshal`` can write the values, and `to_json` writes them as it does.

Hostile YAML fails fast with one message: nesting deeper than `MAX_DEPTH` levels (while
composing, and again after aliases are expanded), and alias bombs ("billion laughs"): a
`Decoder` applies yaml.v3's limit on how much of a document may come from alias expansion
("document contains excessive aliasing"), plus an absolute cap of `MAX_ALIASED` nodes.
Integers of any length are resolved without building a huge int.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.events import MappingStartEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from emco_migrate.wire import gojson

# Tag given to plain (unquoted, untagged) scalars so they reach `resolve_plain`.
_PLAIN_TAG = "tag:emco-migrate,2024:plain"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_YAML = "tag:yaml.org,2002:"

INT64_MIN, INT64_MAX = gojson.INT64
UINT64_MAX = 2**64 - 1
# More significant digits than this are beyond 64 bits in any base (2 is the widest).
_MAX_INT_DIGITS = 64

# How deeply sequences and mappings may nest (yaml.v3 allows 10000). emcoctl's documents nest
# about eight deep; every walk over a decoded value recurses once per level.
MAX_DEPTH = 100
# yaml.v3 (decode.go): once a document has had 1000 decodes and 100 of them came through an
# alias, the share from aliases may not exceed 99% up to 400,000 decodes, falling to 10% at
# 4,000,000. We also stop at 100,000 alias-driven decodes, which no real file comes near.
_ALIAS_MIN_COUNT = 100
_ALIAS_MIN_DECODES = 1000
_ALIAS_RATIO_LOW, _ALIAS_RATIO_HIGH = 400_000, 4_000_000
MAX_ALIASED = 100_000
EXCESSIVE_ALIASING = "yaml: document contains excessive aliasing"

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

        self._depth = 0

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        """Stop at the scanner already, as yaml.v3 does (``exceeded max depth``).

        The scanner looks ahead up to 1024 characters for a possible key and checks every open
        ``[``/``{`` each time, so a line of thousands of brackets is slow before the composer
        ever sees it.
        """
        if self.flow_level >= MAX_DEPTH:
            line = self.get_mark().line + 1
            raise GoYamlError(f"line {line}: nested deeper than {MAX_DEPTH} levels")
        super().fetch_flow_collection_start(TokenClass)

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        if kind is ScalarNode and implicit[0]:
            return _MERGE_TAG if value == "<<" else _PLAIN_TAG
        return str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        """PyYAML's composer recurses once per level: refuse to go deeper than `MAX_DEPTH`."""
        if not self.check_event(SequenceStartEvent, MappingStartEvent):
            return super().compose_node(parent, index)
        if self._depth >= MAX_DEPTH:
            line = self.peek_event().start_mark.line + 1  # type: ignore[no-untyped-call]
            raise GoYamlError(f"line {line}: nested deeper than {MAX_DEPTH} levels")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


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
    return to_value(nodes[0], Decoder()) if nodes else None


# --------------------------------------------------------------------------- scalars


def go_parse_int(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 0, 64)`` without the range check; None if invalid.

    Beyond 64 bits the result is just ±(2**64) (out of range either way), so a literal of
    thousands of digits costs no more than reading it.
    """
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
    if len(digits.lstrip("0")) > _MAX_INT_DIGITS:
        return -(UINT64_MAX + 1) if negative else UINT64_MAX + 1  # out of range; no huge int
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


def _allowed_alias_ratio(decodes: int) -> float:
    if decodes <= _ALIAS_RATIO_LOW:
        return 0.99
    if decodes >= _ALIAS_RATIO_HIGH:
        return 0.10
    span = _ALIAS_RATIO_HIGH - _ALIAS_RATIO_LOW
    return 0.99 - 0.89 * (decodes - _ALIAS_RATIO_LOW) / span


class Decoder:
    """Decoding one document: yaml.v3's alias-expansion limit and the depth bound.

    PyYAML composes an alias as the very node its anchor names, so the nodes are shared and
    expanding them is where an alias bomb explodes. A node met a second time was reached
    through an alias: it and everything decoded beneath it count as alias expansion, as
    yaml.v3 counts them. Use one decoder for everything read from one document.
    """

    def __init__(self) -> None:
        self.decodes = 0
        self.aliased = 0
        self._alias_depth = 0
        self._depth = 0
        self._seen: set[int] = set()
        self._active: set[int] = set()

    def count(self) -> None:
        """One decode (of a node or a mapping key); raises `GoYamlError` past the limit."""
        self.decodes += 1
        if not self._alias_depth:
            return
        self.aliased += 1
        if (
            self.aliased > _ALIAS_MIN_COUNT
            and self.decodes > _ALIAS_MIN_DECODES
            and (
                self.aliased > MAX_ALIASED
                or self.aliased / self.decodes > _allowed_alias_ratio(self.decodes)
            )
        ):
            raise GoYamlError(EXCESSIVE_ALIASING)

    def enter(self, node: Node) -> bool:
        """Start decoding ``node``; returns whether it came through an alias (for `leave`)."""
        key = id(node)
        if key in self._active:
            raise GoYamlError(f"line {_line(node)}: recursive alias")
        # Within an expansion every node is one seen before; only the outermost is the alias.
        via_alias = not self._alias_depth and key in self._seen
        if via_alias:
            self.count()  # the alias itself, which yaml.v3 decodes before what it names
            self._alias_depth += 1
        self._seen.add(key)
        self.count()
        if not isinstance(node, ScalarNode):
            if self._depth >= MAX_DEPTH:
                raise GoYamlError(
                    f"line {_line(node)}: nested deeper than {MAX_DEPTH} levels "
                    "(counting what aliases expand to)"
                )
            self._depth += 1
            self._active.add(key)
        return via_alias

    def leave(self, node: Node, via_alias: bool) -> None:
        """Done with ``node`` (after `enter` returned ``via_alias``)."""
        if not isinstance(node, ScalarNode):
            self._depth -= 1
            self._active.discard(id(node))
        if via_alias:
            self._alias_depth -= 1


def mapping_items(node: MappingNode, decoder: Decoder | None = None) -> Iterator[tuple[Node, Node]]:
    """Key/value nodes with merge keys (``<<``) applied; duplicate keys are an error.

    Each key and each merged mapping counts against ``decoder`` (a new one if not given).
    """
    decoder = decoder or Decoder()
    seen: dict[Any, int] = {}
    explicit: list[tuple[Node, Node]] = []
    merged: list[tuple[Node, Node]] = []
    for key, value in node.value:
        decoder.count()
        if key.tag == _MERGE_TAG:
            merged.extend(_merge_sources(value, decoder))
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


def _merge_sources(value: Node, decoder: Decoder) -> list[tuple[Node, Node]]:
    via_alias = decoder.enter(value)
    try:
        if isinstance(value, MappingNode):
            return list(mapping_items(value, decoder))
        if isinstance(value, SequenceNode) and all(isinstance(v, MappingNode) for v in value.value):
            items: list[tuple[Node, Node]] = []
            for source in value.value:
                items.extend(_merge_sources(source, decoder))
            return items
    finally:
        decoder.leave(value, via_alias)
    raise GoYamlError(f"line {_line(value)}: map merge requires a mapping or a list of mappings")


def _key(node: Node) -> Any:
    if isinstance(node, ScalarNode):
        value = scalar_value(node)
        # Keep 1, 1.0 and true apart, as Go's interface{} keys are.
        return (type(value).__name__, value)
    raise GoYamlError(f"line {_line(node)}: a {_kind(node)} cannot be a mapping key here")


def to_value(node: Node, decoder: Decoder | None = None) -> Any:
    """Convert a node to the Go ``interface{}`` value yaml.v3 would produce.

    Mappings become dicts (keys resolved like values, so ``1:`` gives an int key), sequences
    lists. Recursive aliases, excessive aliasing and too deep nesting are errors; pass one
    ``decoder`` for all the values of one document.
    """
    decoder = decoder or Decoder()
    via_alias = decoder.enter(node)
    try:
        if isinstance(node, ScalarNode):
            return scalar_value(node)
        if isinstance(node, SequenceNode):
            return [to_value(item, decoder) for item in node.value]
        if isinstance(node, MappingNode):
            return {_key(k)[1]: to_value(v, decoder) for k, v in mapping_items(node, decoder)}
    finally:
        decoder.leave(node, via_alias)
    raise GoYamlError(f"line {_line(node)}: unexpected YAML node")


def json_ready(value: Any, path: str = "") -> Any:
    """``value`` with its maps sorted (`gojson.sorted_deep`), once Go's ``json.Marshal`` is
    known to accept it: raises `GoYamlError` for non-string map keys (yaml.v3 makes those a
    ``map[interface{}]interface{}``) and NaN or infinite floats. Whole floats come out as
    integer literals (``1e10`` -> ``10000000000``), as Go writes them."""
    _check_encodable(value, path)
    return gojson.sorted_deep(value)


def _check_encodable(value: Any, path: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise GoYamlError(
                    f"{path or 'value'}: the mapping key {key!r} is not a string "
                    "(json: unsupported type map[interface {}]interface {})"
                )
            _check_encodable(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_encodable(item, f"{path}[{i}]")
    elif isinstance(value, float) and not math.isfinite(value):
        special = "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
        raise GoYamlError(f"{path or 'value'}: json: unsupported value: {special}")


def to_json(value: Any) -> str:
    """Encode like Go's ``json.Marshal`` of the yaml.v3-decoded value."""
    return gojson.dumps(json_ready(value))
