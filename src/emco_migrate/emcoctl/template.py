"""The subset of Go's text/template that emcoctl's ``-v values.yaml`` templates use.

Supported: ``{{.Key}}`` and ``{{.A.B}}`` field chains (spaces allowed inside the braces), the
``{{-``/``-}}`` trim markers and ``{{/* comments */}}``. Values print like Go's ``%v``; a key
missing from the values map prints ``<no value>``, as Go's default ``missingkey`` option does.
Anything else (pipelines, functions, ``if``/``range``) is refused with the line it is on, rather
than rendered differently from emcoctl.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

NO_VALUE = "<no value>"
_SPACE = " \t\r\n"
_CHAIN = re.compile(r"(\.[^\W\d]\w*)+")
_SUPPORTED = "{{.Key}}, {{.A.B}}, {{- trim -}} markers and {{/* comments */}}"


class TemplateError(ValueError):
    """A template this subset cannot render the way Go would."""


@dataclass(frozen=True)
class Rendered:
    """The rendered text and the field chains that were missing from the data."""

    text: str
    missing: tuple[str, ...]


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def render(text: str, data: Any, *, source: str = "template") -> Rendered:
    """Render ``text`` with ``data`` (a values map) like Go's ``template.Execute``."""
    out: list[str] = []
    missing: list[str] = []
    pos = 0
    trim_next = False
    while True:
        start = text.find("{{", pos)
        chunk = text[pos:] if start < 0 else text[pos:start]
        if trim_next:
            chunk = chunk.lstrip(_SPACE)
        if start < 0:
            out.append(chunk)
            break
        inner = start + 2
        if text[inner : inner + 1] == "-" and text[inner + 1 : inner + 2] in tuple(_SPACE):
            chunk = chunk.rstrip(_SPACE)
            inner += 2
        out.append(chunk)
        where = f"{source}:{_line_of(text, start)}"
        if text.startswith("/*", inner):
            close = text.find("*/", inner + 2)
            if close < 0:
                raise TemplateError(f"{where}: unclosed comment")
            end, trim_next = _right_delim(text, close + 2, where)
            pos = end
            continue
        close = text.find("}}", inner)
        if close < 0:
            raise TemplateError(f"{where}: unclosed action")
        action = text[inner:close]
        trim_next = len(action) >= 2 and action[-1] == "-" and action[-2] in _SPACE
        if trim_next:
            action = action[:-2]
        action = action.strip(_SPACE)
        if not _CHAIN.fullmatch(action):
            raise TemplateError(
                f"{where}: unsupported template action {{{{{action}}}}}; "
                f"this applier renders only {_SUPPORTED}"
            )
        value = _lookup(data, action, where)
        if value is _MISSING:
            missing.append(action)
            out.append(NO_VALUE)
        else:
            out.append(format_value(value))
        pos = close + 2
    return Rendered("".join(out), tuple(dict.fromkeys(missing)))


def _right_delim(text: str, index: int, where: str) -> tuple[int, bool]:
    """After a comment: the index past ``}}`` and whether it carried a trim marker."""
    if text.startswith("}}", index):
        return index + 2, False
    if text[index : index + 1] in tuple(_SPACE) and text.startswith("-}}", index + 1):
        return index + 4, True
    raise TemplateError(f"{where}: comment ends before closing delimiter")


class _Missing:
    pass


_MISSING: Any = _Missing()


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    return "map[string]interface {}"


def _lookup(data: Any, chain: str, where: str) -> Any:
    """Walk ``.A.B`` like Go: a missing key ends in <no value>, a nil or non-map is an error."""
    current = data
    names = chain.split(".")[1:]
    for i, name in enumerate(names):
        if current is _MISSING:
            return _MISSING
        if current is None:
            if i == 0:  # no data at all: Go prints <no value>
                return _MISSING
            raise TemplateError(
                f"{where}: executing {chain}: nil pointer evaluating interface {{}}.{name}"
            )
        if not isinstance(current, dict):
            raise TemplateError(
                f"{where}: executing {chain}: can't evaluate field {name} in type "
                f"{_go_type(current)}"
            )
        current = current.get(name, _MISSING)
    return current


def format_float(value: float) -> str:
    """Go's ``%v`` of a float64 (``strconv.FormatFloat(v, 'g', -1, 64)``): 1e+06, 123456, 1.5."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    parts = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, parts.digits)).rstrip("0")
    exponent = int(parts.exponent) + (len(parts.digits) - len(digits))
    point = len(digits) + exponent  # position of the decimal point within digits
    exp10 = point - 1
    if exp10 < -4 or exp10 >= 6:  # shortest %g switches to %e at these exponents
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def format_value(value: Any, *, nested: bool = False) -> str:
    """Go's ``%v`` of a value decoded by yaml.v3 into ``interface{}``."""
    if value is None:
        return "<nil>" if nested else NO_VALUE
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, list):
        return "[" + " ".join(format_value(v, nested=True) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        body = " ".join(
            f"{format_value(k, nested=True)}:{format_value(v, nested=True)}" for k, v in items
        )
        return f"map[{body}]"
    return str(value)
