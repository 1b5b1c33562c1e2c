"""Go `encoding/json` decoding of a parsed request body into a typed struct.

Rules reproduced: object keys match a field's tag exactly or else case-insensitively, the
last duplicate wins and nested structs and maps are merged; unknown keys are dropped;
``null`` leaves non-nullable fields alone; a type mismatch keeps the zero value and the
first one is reported after the whole value has been decoded, as Go does.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass
from types import NoneType, UnionType
from typing import Any, Literal, TypeVar

from emco_migrate.emcosim.gojson.parse import GoDecodeError, GoObject, to_json_text
from emco_migrate.gowire import NumberLiteral

T = TypeVar("T")
INT64 = (-(2**63), 2**63 - 1)
_META = "go"


@dataclass(frozen=True)
class GoKey:
    """How one dataclass field appears in Go JSON."""

    key: str
    omitempty: bool = False


def go(key: str, *, omitempty: bool = False) -> dict[str, GoKey]:
    """Field metadata: carried in JSON under ``key`` (Go's json tag).

    Use as ``name: str = field(default="", metadata=go("name"))``.
    """
    return {_META: GoKey(key, omitempty)}


@dataclass(frozen=True)
class Codec:
    """A type decoded and encoded by its own functions (e.g. the Temporal spec)."""

    decode: Callable[[str, str], Any]  # (JSON text of the value, dotted path) -> value
    encode: Callable[[Any], Any]  # value -> JSON-ready object
    zero: Callable[[], Any]


CODECS: dict[type, Codec] = {}


def register_codec(tp: type, codec: Codec) -> None:
    """Let fields of type ``tp`` be handled by ``codec``."""
    CODECS[tp] = codec


Kind = Literal[
    "string", "int", "bool", "float", "slice", "map", "struct", "pointer", "any", "codec"
]


@dataclass(frozen=True)
class GoType:
    """The Go shape of a Python annotation."""

    kind: Kind
    elem: GoType | None = None
    cls: type | None = None

    def go_name(self) -> str:
        """The Go type name used in decoder messages."""
        simple = {"string": "string", "int": "int", "bool": "bool", "float": "float64"}
        if self.kind in simple:
            return simple[self.kind]
        if self.kind == "any":
            return "interface {}"
        if self.kind == "slice" and self.elem is not None:
            return "[]" + self.elem.go_name()
        if self.kind == "map" and self.elem is not None:
            return "map[string]" + self.elem.go_name()
        if self.kind == "pointer" and self.elem is not None:
            return "*" + self.elem.go_name()
        return struct_name(self.cls)


def struct_name(cls: type | None) -> str:
    """A struct's Go name: its ``GO_NAME`` class attribute, else the class name."""
    return str(getattr(cls, "GO_NAME", cls.__name__ if cls else "struct"))


def classify(tp: Any) -> GoType:
    """Map a field annotation to its Go shape."""
    if tp is str:
        return GoType("string")
    if tp is bool:
        return GoType("bool")
    if tp is int:
        return GoType("int")
    if tp is float:
        return GoType("float")
    if tp is Any:
        return GoType("any")
    if isinstance(tp, type) and tp in CODECS:
        return GoType("codec", cls=tp)
    origin = typing.get_origin(tp)
    if origin in (UnionType, typing.Union):
        args = [a for a in typing.get_args(tp) if a is not NoneType]
        inner = classify(args[0])
        return inner if inner.kind in ("slice", "map", "any") else GoType("pointer", elem=inner)
    if origin is list:
        return GoType("slice", elem=classify(typing.get_args(tp)[0]))
    if origin is dict:
        return GoType("map", elem=classify(typing.get_args(tp)[1]))
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return GoType("struct", cls=tp)
    raise TypeError(f"unsupported Go field type {tp!r}")


_FIELD_CACHE: dict[type, list[tuple[str, GoKey, GoType]]] = {}


def go_fields(cls: type) -> list[tuple[str, GoKey, GoType]]:
    """(attribute, json key, Go shape) for each wire field of a dataclass, in order."""
    cached = _FIELD_CACHE.get(cls)
    if cached is None:
        hints = typing.get_type_hints(cls)
        cached = [
            (f.name, f.metadata[_META], classify(hints[f.name]))
            for f in dataclasses.fields(cls)
            if _META in f.metadata
        ]
        _FIELD_CACHE[cls] = cached
    return cached


# --------------------------------------------------------------------------- decoding


def _fold(key: str) -> str:
    # Go's EqualFold: Unicode simple folding, where long s and the Kelvin sign fold too.
    return key.casefold().replace("\u017f", "s").replace("\u212a", "k")


def _json_kind(value: Any) -> str:
    if isinstance(value, GoObject):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "string"


@dataclass
class _Context:
    errors: list[str]
    path: tuple[str, ...] = ()
    struct: str = ""

    def mismatch(self, value_kind: str, gotype: GoType) -> None:
        """Record Go's `UnmarshalTypeError` text for the current field."""
        where = ".".join(self.path)
        self.errors.append(
            f"json: cannot unmarshal {value_kind} into Go struct field "
            f"{self.struct}.{where} of type {gotype.go_name()}"
        )

    def child(self, key: str) -> _Context:
        """The context of a nested key."""
        return _Context(self.errors, (*self.path, key), self.struct)


def decode_struct(cls: type[T], value: Any) -> T:
    """Decode a parsed body into dataclass ``cls`` the way Go's decoder would."""
    if not isinstance(value, GoObject):
        if value is None:
            return cls()
        raise GoDecodeError(
            f"json: cannot unmarshal {_json_kind(value)} into Go value of type {struct_name(cls)}"
        )
    ctx = _Context(errors=[], struct=struct_name(cls))
    result = _decode_struct_into(cls, value, cls(), ctx)
    if ctx.errors:
        raise GoDecodeError(ctx.errors[0])
    return typing.cast(T, result)


def _decode_struct_into(cls: type, raw: GoObject, current: Any, ctx: _Context) -> Any:
    fields = go_fields(cls)
    exact = {key.key: (attr, key, gt) for attr, key, gt in fields}
    folded = {_fold(key.key): (attr, key, gt) for attr, key, gt in fields}
    values = {attr: getattr(current, attr) for attr, _, _ in fields}
    inner = _Context(ctx.errors, ctx.path, struct_name(cls))
    for key, item in raw:
        match = exact.get(key) or folded.get(_fold(key))
        if match is None:
            continue
        attr, gokey, gotype = match
        values[attr] = _decode(gotype, item, values[attr], inner.child(gokey.key))
    return dataclasses.replace(current, **values)


def _decode(gotype: GoType, raw: Any, current: Any, ctx: _Context) -> Any:
    kind = gotype.kind
    if raw is None:
        return None if kind in ("slice", "map", "pointer", "any") else current
    if kind == "any":
        return _plain(raw, ctx)
    if kind == "codec":
        codec = CODECS[typing.cast(type, gotype.cls)]
        return codec.decode(to_json_text(raw), ".".join(ctx.path))
    if kind == "string":
        if isinstance(raw, str):
            return raw
    elif kind == "bool":
        if isinstance(raw, bool):
            return raw
    elif kind in ("int", "float"):
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            if kind == "float" and _fits_float64(raw):
                return float(raw)
            if isinstance(raw, int) and INT64[0] <= raw <= INT64[1]:
                return raw
            ctx.mismatch(f"number {_number_text(raw)}", gotype)
            return current
    elif kind == "slice":
        if isinstance(raw, list) and not isinstance(raw, GoObject):
            elem = typing.cast(GoType, gotype.elem)
            return [_decode(elem, item, _zero(elem), ctx) for item in raw]
    elif isinstance(raw, GoObject):
        if kind == "map":
            elem = typing.cast(GoType, gotype.elem)
            out = dict(current or {})
            for key, item in raw:
                out[key] = _decode(elem, item, out.get(key, _zero(elem)), ctx.child(key))
            return out
        if kind == "pointer":
            elem = typing.cast(GoType, gotype.elem)
            return _decode(elem, raw, current if current is not None else _zero(elem), ctx)
        if kind == "struct":
            return _decode_struct_into(typing.cast(type, gotype.cls), raw, current, ctx)
    ctx.mismatch(_json_kind(raw), gotype)
    return current


def _zero(gotype: GoType) -> Any:
    zeros: dict[str, Any] = {"string": "", "int": 0, "bool": False, "float": 0.0}
    if gotype.kind in zeros:
        return zeros[gotype.kind]
    if gotype.kind == "struct":
        return typing.cast(type, gotype.cls)()
    if gotype.kind == "codec":
        return CODECS[typing.cast(type, gotype.cls)].zero()
    return None


def _fits_float64(number: float) -> bool:
    return not isinstance(number, NumberLiteral) or number.finite


def _number_text(number: float) -> str:
    """A number as Go's messages quote it: its literal (cut when long)."""
    return number.short() if isinstance(number, NumberLiteral) else repr(number)


def _plain(raw: Any, ctx: _Context) -> Any:
    """A value as Go's ``interface{}`` holds it: objects are maps, numbers float64.

    A number beyond float64 is Go's type error; the value is left nil, as Go leaves it.
    """
    if isinstance(raw, GoObject):
        return {k: _plain(v, ctx.child(k)) for k, v in raw}
    if isinstance(raw, list):
        return [_plain(v, ctx) for v in raw]
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if not _fits_float64(raw):
            ctx.mismatch(f"number {_number_text(raw)}", GoType("float"))
            return None
        return float(raw)
    return raw
