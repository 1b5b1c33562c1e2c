"""Go `encoding/json` encoding of `go`-tagged dataclasses: field order, omitempty, sorted maps."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from emco_migrate import gowire
from emco_migrate.emcosim.gojson.decode import CODECS, GoType, go_fields


def encode(value: Any, gotype: GoType | None = None) -> Any:
    """The JSON-ready form Go's `json.Marshal` would produce for ``value``.

    Without ``gotype``, dataclasses (and lists of them) are encoded by their declaration and
    any other value is taken as already JSON-ready, its dict order kept.
    """
    if gotype is None:
        if isinstance(value, list):
            return [encode(v) for v in value]
        if not (dataclasses.is_dataclass(value) or type(value) in CODECS):
            return value
        gotype = _guess(value)
    kind = gotype.kind
    if value is None:
        return None
    if kind == "codec":
        return CODECS[typing.cast(type, gotype.cls)].encode(value)
    if kind in ("struct", "pointer") and dataclasses.is_dataclass(value):
        out: dict[str, Any] = {}
        for attr, key, field_type in go_fields(type(value)):
            item = getattr(value, attr)
            if key.omitempty and _is_empty(item, field_type):
                continue
            out[key.key] = encode(item, field_type)
        return out
    if kind == "slice":
        elem = gotype.elem or GoType("any")
        return [encode(v, elem) for v in value]
    if kind == "map":
        elem = gotype.elem or GoType("any")
        return {k: encode(value[k], elem) for k in sorted(value)}
    if kind == "any":
        return _sorted(value)
    return value


def _guess(value: Any) -> GoType:
    if type(value) in CODECS:
        return GoType("codec", cls=type(value))
    return GoType("struct", cls=type(value))


def _is_empty(value: Any, gotype: GoType) -> bool:
    """Go's omitempty test: false, 0, "", nil, and empty slices/maps; structs never."""
    if gotype.kind in ("struct", "codec"):
        return False
    if value is None:
        return True
    if gotype.kind in ("slice", "map", "string", "any"):
        return len(value) == 0 if isinstance(value, str | list | dict) else False
    return not value


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def go_json(value: Any) -> bytes:
    """The bytes `json.NewEncoder(w).Encode(value)` writes: Go escapes plus a newline."""
    return gowire.dump_bytes(encode(value)) + b"\n"
