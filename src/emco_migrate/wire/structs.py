"""Go structs as frozen dataclasses: Go's `encoding/json` decoding and encoding, declared once.

A wire field carries its JSON key (Go's tag or field name) in its metadata::

    timeout_ns: int = field(default=0, metadata=go("Timeout", kind="duration"))

`decode` follows Go's decoder: a key matches a field exactly, else case-insensitively
(`gojson.fold`); unknown keys are dropped (or kept, see `unknown_keys` and `extensions`;
``keep_unknown=False`` drops them from `extensions` fields too, as Go would);
``null`` leaves a field at its zero value; a duplicate key decodes again *into* what the
first one gave (structs, pointers and maps merge, slices and scalars are replaced); a type
mismatch leaves the zero value and decoding goes on, and the first mismatch in document order
is the error, raised once the whole value is read. The error (`DecodeError`) says it in our
words with a path (``a.b['key'][0].c``) and in Go's (``json: cannot unmarshal ...``) for the
emulator, which answers as EMCO would.

`encode` is `json.Marshal`: fields in declaration order, `omitempty`, maps sorted by key.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from types import NoneType, UnionType
from typing import Any, Literal, Self, TypeVar

from emco_migrate.wire.gojson import (
    INT32,
    INT64,
    FieldError,
    GoObject,
    NumberLiteral,
    cannot_hold_float64,
    dump_bytes,
    fold,
    json_kind,
    number_text,
    parse,
    plain,
    sorted_deep,
)

T = TypeVar("T")
_META = "go"

Kind = Literal[
    "string", "int", "int32", "duration", "bool", "float", "slice", "tuple", "map", "struct",
    "pointer", "any",
]  # fmt: skip
_SCALAR_NAMES = {
    "string": "string",
    "int": "int",
    "int32": "int32",
    "duration": "time.Duration",
    "bool": "bool",
    "float": "float64",
}
_OURS = {
    "string": "a string",
    "int": "an integer",
    "int32": "an int32",
    "duration": "an integer number of nanoseconds",
    "bool": "true or false",
    "float": "a number",
}
_BOUNDS = {"int": INT64, "int32": INT32, "duration": INT64}


@dataclass(frozen=True)
class GoKey:
    """How one dataclass field appears in Go JSON."""

    key: str
    omitempty: bool = False
    kind: Kind | None = None  # "int32" or "duration" for an int field
    what: str = ""  # what the value should be, for our messages ("an int32" by default)


def go(
    key: str, *, omitempty: bool = False, kind: Kind | None = None, what: str = ""
) -> dict[str, Any]:
    """Field metadata: carried in JSON under ``key``; ``kind`` refines an int field; ``what``
    says what the value should be in our messages."""
    return {_META: GoKey(key, omitempty, kind, what)}


def unknown_keys() -> dict[str, Any]:
    """Field metadata: the field receives the keys no wire field matched, as a tuple (Go's
    decoder drops them; we refuse some by name). Never encoded."""
    return {_META: "unknown_keys"}


def extensions() -> dict[str, Any]:
    """Field metadata: the field receives the unmatched keys with their values (a dict, as
    Go's ``interface{}`` would hold them), and they are encoded after the wire fields. For
    structs whose JSON this implementation extends (`MigParam`) or must not lose (EMCO
    bodies written back). Decoding with ``keep_unknown=False`` leaves the field empty."""
    return {_META: "extensions"}


@dataclass(frozen=True)
class GoType:
    """The Go shape of a Python annotation."""

    kind: Kind
    elem: GoType | None = None
    cls: type | None = None
    what: str = ""

    def go_name(self) -> str:
        """The Go type name used in Go's decoder messages."""
        if self.kind in _SCALAR_NAMES:
            return _SCALAR_NAMES[self.kind]
        if self.kind == "any":
            return "interface {}"
        elem = self.elem.go_name() if self.elem is not None else ""
        if self.kind in ("slice", "tuple"):
            return "[]" + elem
        if self.kind == "map":
            return "map[string]" + elem
        if self.kind == "pointer":
            return "*" + elem
        return struct_name(self.cls)

    def ours(self) -> str:
        """What the value should be, in our words."""
        if self.what:
            return self.what
        if self.kind in _OURS:
            return _OURS[self.kind]
        if self.kind in ("slice", "tuple"):
            inner = self.elem
            return "an array of strings" if inner and inner.kind == "string" else "an array"
        if self.kind == "pointer" and self.elem is not None:
            return self.elem.ours()
        if self.kind == "struct":
            return f"an object ({struct_name(self.cls).rpartition('.')[2]})"
        return "an object"


def struct_name(cls: type | None) -> str:
    """A struct's Go name: its ``GO_NAME`` class attribute, else the class name."""
    return str(getattr(cls, "GO_NAME", cls.__name__ if cls else "struct"))


def classify(tp: Any, kind: Kind | None = None) -> GoType:
    """Map a field annotation to its Go shape."""
    simple: dict[Any, Kind] = {str: "string", bool: "bool", int: "int", float: "float", Any: "any"}
    if tp in simple:
        return GoType(kind if tp is int and kind else simple[tp])
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (UnionType, typing.Union):
        inner = classify(next(a for a in args if a is not NoneType), kind)
        return inner if inner.kind in ("slice", "tuple", "map", "any") else GoType("pointer", inner)
    if origin is list:
        return GoType("slice", classify(args[0], kind))
    if origin is tuple:
        return GoType("tuple", classify(args[0], kind))
    if origin is dict:
        return GoType("map", classify(args[1], kind))
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return GoType("struct", cls=tp)
    raise TypeError(f"unsupported Go field type {tp!r}")


@dataclass(frozen=True)
class _Fields:
    wire: tuple[tuple[str, GoKey, GoType], ...]  # (attribute, key, shape), in order
    exact: dict[str, tuple[str, GoKey, GoType]]
    folded: dict[str, tuple[str, GoKey, GoType]]
    unknown: str | None  # the attribute receiving unknown key names
    extra: str | None  # the attribute receiving unknown keys and values
    init_fields: int  # how many fields __init__ takes


_FIELDS: dict[type, _Fields] = {}


def _fields(cls: type) -> _Fields:
    found = _FIELDS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        wire, unknown, extra = [], None, None
        for f in dataclasses.fields(cls):
            meta = f.metadata.get(_META)
            if meta == "unknown_keys":
                unknown = f.name
            elif meta == "extensions":
                extra = f.name
            elif isinstance(meta, GoKey):
                shape = classify(hints[f.name], meta.kind)
                if meta.what:
                    shape = dataclasses.replace(shape, what=meta.what)
                wire.append((f.name, meta, shape))
        found = _Fields(
            tuple(wire),
            {w[1].key: w for w in wire},
            {fold(w[1].key): w for w in wire},
            unknown,
            extra,
            sum(1 for f in dataclasses.fields(cls) if f.init),
        )
        _FIELDS[cls] = found
    return found


# --------------------------------------------------------------------------- decoding


class DecodeError(FieldError):
    """A value of the wrong JSON kind or range for its field (see `FieldError`)."""


class _Context:
    """Where the value being decoded sits. A decode makes one per field it reads and most
    decodes meet no error, so the paths are spelled out only when asked for (an error):
    each context holds one step (a key, a map key, an index) and its parent."""

    __slots__ = ("_name", "_parent", "_step", "errors", "keep_unknown", "struct")

    def __init__(
        self,
        errors: list[DecodeError],
        keep_unknown: bool = True,  # fill `extensions` fields
        struct: str = "",  # the innermost struct's Go name
        parent: _Context | None = None,
        step: Literal["root", "key", "map", "index", "struct"] = "root",
        name: Any = "",  # the key, map key or index; the whole path at the root
    ) -> None:
        self.errors = errors
        self.keep_unknown = keep_unknown
        self.struct = struct
        self._parent = parent
        self._step = step
        self._name = name

    def key(self, key: str) -> _Context:
        return _Context(self.errors, self.keep_unknown, self.struct, self, "key", key)

    def map_key(self, key: str) -> _Context:
        return _Context(self.errors, self.keep_unknown, self.struct, self, "map", key)

    def index(self, i: int) -> _Context:
        return _Context(self.errors, self.keep_unknown, self.struct, self, "index", i)

    def within(self, struct: str) -> _Context:
        """The same place, inside Go struct ``struct``."""
        return _Context(self.errors, self.keep_unknown, struct, self, "struct")

    def _steps(self) -> list[_Context]:
        steps: list[_Context] = []
        node: _Context | None = self
        while node is not None:
            steps.append(node)
            node = node._parent
        return steps[::-1]

    @property
    def path(self) -> str:
        """Ours: ``a.b['key'][0]``."""
        path = ""
        for node in self._steps():
            name = node._name
            if node._step == "root":
                path = name
            elif node._step == "key":
                path = f"{path}.{name}" if path else name
            elif node._step == "map":
                path = f"{path}[{name!r}]"
            elif node._step == "index":
                path = f"{path}[{name}]"
        return path

    @property
    def go_path(self) -> tuple[str, ...]:
        """Go's field stack: ``a.b.key``."""
        return tuple(node._name for node in self._steps() if node._step in ("key", "map"))

    def mismatch(self, raw: Any, gotype: GoType) -> None:
        """Record the mismatch of ``raw`` against ``gotype`` (only the first is raised)."""
        if self.errors:
            return
        numeric = gotype.kind in _BOUNDS or gotype.kind == "float"
        is_number = isinstance(raw, int | float) and not isinstance(raw, bool)
        value = f"number {number_text(raw)}" if numeric and is_number else json_kind(raw)
        where = (
            f"Go struct field {self.struct}.{'.'.join(self.go_path)}"
            if self.go_path
            else "Go value"
        )
        go_text = f"json: cannot unmarshal {value} into {where} of type {gotype.go_name()}"
        if gotype.kind == "float" and is_number:
            reason = cannot_hold_float64(raw)
        elif numeric and is_number and _integral(raw):
            reason = f"{number_text(raw)} is out of range for {gotype.ours()}"
        elif numeric and is_number:
            reason = f"expected {gotype.ours()}, got the non-integer number {number_text(raw)}"
        else:
            reason = f"expected {gotype.ours()}, got {json_kind(raw)}"
        self.errors.append(DecodeError(self.path, reason, go_text))


def _integral(number: float) -> bool:
    if isinstance(number, NumberLiteral):
        return number.integral
    return isinstance(number, int)


def decode(cls: type[T], value: Any, path: str = "", *, keep_unknown: bool = True) -> T:
    """Decode a parsed value (`gojson.parse`, or dicts and lists) into dataclass ``cls``;
    raises `DecodeError`. ``keep_unknown=False`` leaves `extensions` fields empty: the
    unknown keys are dropped, as Go's decoder drops them."""
    ctx = _Context([], keep_unknown, name=path)
    result = _decode(GoType("struct", cls=cls), value, cls(), ctx)
    if ctx.errors:
        raise ctx.errors[0]
    return typing.cast(T, result)


def from_json(
    cls: type[T], data: bytes | str, *, first_value: bool = False, keep_unknown: bool = True
) -> T:
    """`gojson.parse` then `decode`; raises `FieldError`."""
    return decode(cls, parse(data, first_value=first_value), keep_unknown=keep_unknown)


def _pairs(raw: GoObject | dict[str, Any]) -> Iterable[tuple[str, Any]]:
    return raw.items() if isinstance(raw, dict) else raw


def _decode_struct(cls: type, raw: GoObject | dict[str, Any], current: Any, ctx: _Context) -> Any:
    fields = _fields(cls)
    values = {attr: getattr(current, attr) for attr, _, _ in fields.wire}
    inner = ctx.within(struct_name(cls))
    unknown: dict[str, Any] = {}
    for key, item in _pairs(raw):
        match = fields.exact.get(key) or fields.folded.get(fold(key))
        if match is None:
            unknown[key] = item
            continue
        attr, gokey, gotype = match
        values[attr] = _decode(gotype, item, values[attr], inner.key(gokey.key))
    if fields.unknown is not None:
        values[fields.unknown] = tuple(unknown)
    if fields.extra is not None and ctx.keep_unknown:
        try:
            values[fields.extra] = {
                **getattr(current, fields.extra),
                **plain(GoObject(unknown.items()), float64=False),
            }
        except FieldError as err:
            if not ctx.errors:
                path = f"{ctx.path}{err.path}"
                ctx.errors.append(DecodeError(path, err.reason, err.go_text))
    if len(values) == fields.init_fields:  # every field given: no need for `replace`'s copy
        return type(current)(**values)
    return dataclasses.replace(current, **values)


def _decode(gotype: GoType, raw: Any, current: Any, ctx: _Context) -> Any:
    kind = gotype.kind
    if raw is None:
        return None if kind in ("slice", "tuple", "map", "pointer", "any") else current
    if kind == "any":
        return _interface(raw, ctx)
    if kind == "string":
        if isinstance(raw, str):
            return raw
    elif kind == "bool":
        if isinstance(raw, bool):
            return raw
    elif kind == "float":
        finite = not isinstance(raw, NumberLiteral) or raw.finite
        if isinstance(raw, int | float) and not isinstance(raw, bool) and finite:
            return float(raw)
    elif kind in _BOUNDS:
        low, high = _BOUNDS[kind]
        if isinstance(raw, int) and not isinstance(raw, bool) and low <= raw <= high:
            return raw
    elif kind in ("slice", "tuple"):
        if isinstance(raw, list) and not isinstance(raw, GoObject):
            elem = typing.cast(GoType, gotype.elem)
            items = [_decode(elem, v, _zero(elem), ctx.index(i)) for i, v in enumerate(raw)]
            return tuple(items) if kind == "tuple" else items
    elif isinstance(raw, GoObject | dict):
        if kind == "map":
            elem = typing.cast(GoType, gotype.elem)
            out = dict(current or {})
            for key, item in _pairs(raw):
                out[key] = _decode(elem, item, out.get(key, _zero(elem)), ctx.map_key(key))
            return out
        if kind == "pointer":
            elem = typing.cast(GoType, gotype.elem)
            return _decode(elem, raw, current if current is not None else _zero(elem), ctx)
        if kind == "struct":
            return _decode_struct(typing.cast(type, gotype.cls), raw, current, ctx)
    ctx.mismatch(raw, gotype)
    return current


def _zero(gotype: GoType) -> Any:
    zeros: dict[str, Any] = {"string": "", "bool": False, "float": 0.0}
    if gotype.kind in zeros:
        return zeros[gotype.kind]
    if gotype.kind in _BOUNDS:
        return 0
    if gotype.kind == "struct":
        return typing.cast(type, gotype.cls)()
    return None


def _interface(raw: Any, ctx: _Context) -> Any:
    """A value as Go's ``interface{}`` holds it; a number beyond float64 is Go's type error
    (the value is left nil, as Go leaves it)."""
    if isinstance(raw, GoObject | dict):
        return {k: _interface(v, ctx.map_key(k)) for k, v in _pairs(raw)}
    if isinstance(raw, list):
        return [_interface(v, ctx.index(i)) for i, v in enumerate(raw)]
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if isinstance(raw, NumberLiteral) and not raw.finite:
            ctx.mismatch(raw, GoType("float"))
            return None
        return float(raw)
    return raw


# --------------------------------------------------------------------------- encoding


def encode(value: Any, gotype: GoType | None = None) -> Any:
    """The JSON-ready form Go's `json.Marshal` produces for ``value``.

    Without ``gotype``, dataclasses (and lists of them) are encoded by their declaration and
    any other value is taken as already JSON-ready, its dict order kept.
    """
    if gotype is None:
        if isinstance(value, list):
            return [encode(v) for v in value]
        if not dataclasses.is_dataclass(value):
            return value
        gotype = GoType("struct", cls=type(value))
    if value is None:
        return None
    kind = gotype.kind
    if kind in ("struct", "pointer"):
        fields = _fields(type(value))
        out: dict[str, Any] = {}
        for attr, key, field_type in fields.wire:
            item = getattr(value, attr)
            if not (key.omitempty and _is_empty(item, field_type)):
                out[key.key] = encode(item, field_type)
        if fields.extra is not None:
            out.update(getattr(value, fields.extra))
        return out
    if kind in ("slice", "tuple"):
        elem = gotype.elem or GoType("any")
        return [encode(v, elem) for v in value]
    if kind == "map":
        elem = gotype.elem or GoType("any")
        return {k: encode(value[k], elem) for k in sorted(value)}
    if kind == "any":
        return sorted_deep(value)
    return value


def _is_empty(value: Any, gotype: GoType) -> bool:
    """Go's omitempty test: false, 0, "", nil, and empty slices/maps; structs never."""
    if gotype.kind == "struct":
        return False
    if value is None or gotype.kind == "any":
        return value is None
    if isinstance(value, str | list | tuple | dict):
        return len(value) == 0
    return not value


def to_json(value: Any) -> bytes:
    """The bytes `json.Marshal(value)` gives."""
    return dump_bytes(encode(value))


def go_json(value: Any) -> bytes:
    """The bytes `json.NewEncoder(w).Encode(value)` writes: `to_json` plus a newline."""
    return to_json(value) + b"\n"


class GoStruct:
    """Methods for a dataclass declared with `go` fields."""

    @classmethod
    def decode(cls, value: Any, path: str = "", *, keep_unknown: bool = True) -> Self:
        """Decode a parsed value (`decode`)."""
        return decode(cls, value, path, keep_unknown=keep_unknown)

    @classmethod
    def from_json(cls, data: bytes | str, *, keep_unknown: bool = True) -> Self:
        """Parse JSON text and decode it with Go's rules; raises `FieldError`."""
        return from_json(cls, data, keep_unknown=keep_unknown)

    def encode(self) -> Any:
        """The JSON-ready object, fields in declaration order, maps sorted."""
        return encode(self)

    def to_json(self) -> bytes:
        """The bytes Go's `json.Marshal` produces."""
        return to_json(self)


def wire_keys(cls: type) -> tuple[str, ...]:
    """The JSON keys of ``cls``'s wire fields, in declaration order."""
    return tuple(key.key for _, key, _ in _fields(cls).wire)
