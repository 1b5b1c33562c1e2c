"""JSON text as Go's `encoding/json` reads and writes it: the one parser and encoder.

Reading keeps every object as its key/value pairs in document order, duplicates included
(`GoObject`), because Go matches keys to fields itself: exactly, else by `fold`. Hostile text
is refused in bounded time, never a crash: nesting deeper than `MAX_DEPTH` levels (Go stops at
10000; EMCO's bodies nest about six deep), integer literals beyond 64 bits are kept as their
text (`NumberLiteral`, never a huge Python int), numbers beyond float64 likewise, ``NaN`` is a
syntax error, and lone UTF-16 surrogate escapes (``"\\ud800"``) become U+FFFD, as in Go.

Writing is Go's `json.Marshal`: compact, ``<>&`` and U+2028/9 escaped, Go's float format;
dict order is kept, so callers emit structs in declaration order and maps sorted (`sorted_deep`).
"""

from __future__ import annotations

import json
import math
import re
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate
from typing import Any

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)

# How deeply arrays and objects may nest in text we read. Every walk over a parsed value
# recurses once per level, so this keeps them far from Python's recursion limit (1000). What we
# emit may nest a few levels more (a list of stored objects); the encoder stops at twice this.
MAX_DEPTH = 100
ENCODE_MAX_DEPTH = 2 * MAX_DEPTH
# Integer literals of more digits than this are beyond int64 and uint64 (20 digits).
_INT_DIGITS = 20
_WHITESPACE = " \t\r\n"


class FieldError(ValueError):
    """A value refused where it was read: ``path`` names it (dotted, '' for the whole value),
    ``reason`` says why in our words; ``go_text`` is what Go's decoder says instead."""

    def __init__(self, path: str, reason: str, go_text: str = "") -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason
        self.go_text = go_text or str(self)

    @property
    def field(self) -> str:
        """The culprit's path (the name every caller reports it under)."""
        return self.path


class EmptyBody(FieldError):
    """No JSON value at all (Go's decoder returns `io.EOF`)."""

    def __init__(self) -> None:
        super().__init__("", "the body is empty", "EOF")


class GoObject(list[tuple[str, Any]]):
    """A JSON object as its key/value pairs in document order, duplicates kept."""


class NumberLiteral(float):
    """A JSON number whose Python value is not what Go would decode; its text is kept.

    Integer literals longer than any int64 or uint64 (the float is the nearest float64, which
    is what Go's ``interface{}`` holds) and numbers beyond float64's range (the float is ±inf).
    Decoding refuses them where Go would.
    """

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> NumberLiteral:
        number = super().__new__(cls, float(text))
        number.text = text
        return number

    @property
    def integral(self) -> bool:
        """Written as an integer (no fraction, no exponent)."""
        return not any(c in self.text for c in ".eE")

    @property
    def finite(self) -> bool:
        """Within float64's range."""
        return math.isfinite(self)

    def short(self) -> str:
        """The literal for a message: long ones cut, with their length."""
        if len(self.text) <= 40:
            return self.text
        return f"{self.text[:20]}...({len(self.text)} characters)"


def number_text(number: float) -> str:
    """A number as a message quotes it: its literal (cut when long)."""
    return number.short() if isinstance(number, NumberLiteral) else repr(number)


def cannot_hold_float64(number: float) -> str:
    """Go's error for a number out of float64's range (into ``float64`` or ``interface{}``)."""
    return f"json: cannot unmarshal number {number_text(number)} into Go value of type float64"


def _json_int(text: str) -> int | NumberLiteral:
    digits = len(text) - (text[0] == "-")
    return int(text) if digits <= _INT_DIGITS else NumberLiteral(text)


def _json_float(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else NumberLiteral(text)


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(
        f"invalid character '{name[0]}' looking for beginning of value", name, 0
    )


_DECODER = json.JSONDecoder(
    object_pairs_hook=GoObject,
    parse_constant=_reject_constant,
    parse_int=_json_int,
    parse_float=_json_float,
)

# A JSON string (or an unterminated one: to the end of the text), then any structural byte.
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\Z)'
_STRINGS = re.compile(_STRING, re.DOTALL)
_TOKENS = re.compile(_STRING + r"|[\[\]{}:,]", re.DOTALL)
_OPENERS_CLOSERS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
# Escapes that Python's json would turn into lone surrogates (unencodable as UTF-8); an escaped
# backslash is matched first, so `\\ud800` (a backslash, then "ud800") is left alone.
_SURROGATE_ESCAPES = re.compile(
    r"\\\\|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
)


@dataclass(frozen=True)
class TooDeep:
    """Where JSON text first nests too deeply."""

    offset: int  # index of the opening bracket one level too deep
    bracket: str
    path: str  # keys and indices down to it (the first few)
    line: int
    column: int


def too_deep(text: str, limit: int = MAX_DEPTH) -> TooDeep | None:
    """Where ``text`` nests arrays/objects deeper than ``limit`` levels, or None.

    Brackets inside strings do not count. Linear time, and cheap when the text is shallow.
    """
    if text.count("[") + text.count("{") <= limit:
        return None
    brackets = _STRINGS.sub("", text).encode("utf-8", "ignore")
    steps = array("b", brackets.translate(_OPENERS_CLOSERS, _NOT_BRACKETS))
    if max(accumulate(steps), default=0) <= limit:
        return None
    # Each open container: [its bracket, the key or index of the value being read in it].
    stack: list[list[Any]] = []
    last_string = ""
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token[0] == '"':
            last_string = token
        elif token == ":":
            if stack and stack[-1][0] == "{":
                stack[-1][1] = _string_token(last_string)
        elif token == ",":
            if stack and stack[-1][0] == "[":
                stack[-1][1] += 1
        elif token in "[{":
            if len(stack) >= limit:
                offset = match.start()
                line = text.count("\n", 0, offset) + 1
                column = offset - text.rfind("\n", 0, offset)
                return TooDeep(offset, token, _short_path(stack), line, column)
            stack.append([token, 0 if token == "[" else ""])
        elif stack:
            stack.pop()
    return None


def _string_token(token: str) -> str:
    try:
        return str(json.loads(token))
    except ValueError:
        return token.strip('"')


def _short_path(stack: list[list[Any]], segments: int = 4) -> str:
    path = ""
    for bracket, position in stack[:segments]:
        if bracket == "[":
            path = f"{path}[{position}]"
        else:
            path = f"{path}.{str(position)[:40]}" if path else str(position)[:40]
    return path + ("..." if len(stack) > segments else "")


def _replace_lone_surrogates(text: str) -> str:
    if "\\u" not in text:
        return text
    return _SURROGATE_ESCAPES.sub(_surrogate_escape, text)


def _surrogate_escape(match: re.Match[str]) -> str:
    return "\\ufffd" if len(match.group()) == 6 else match.group()


def parse(data: bytes | str, *, first_value: bool = False) -> Any:
    """Parse JSON text into plain values with `GoObject` objects; raises `FieldError`.

    ``first_value`` reads as `json.Decoder.Decode` does (EMCO's handlers): the first value
    only, what follows ignored, invalid UTF-8 replaced, `EmptyBody` when there is none. Else
    the whole text must be one value in UTF-8 (`json.Unmarshal`).
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as err:
            if not first_value:
                reason = f"body is not UTF-8 (byte {err.start})"
                raise FieldError("", reason, "invalid UTF-8") from None
            data = err.object.decode("utf-8", errors="replace")
    start = len(data) - len(data.lstrip(_WHITESPACE))
    if first_value and start == len(data):
        raise EmptyBody
    if not first_value:
        _refuse_too_deep(data)
    try:
        value, end = _DECODER.raw_decode(_replace_lone_surrogates(data), start)
    except json.JSONDecodeError as err:
        raise _syntax_error(data, err) from None
    except RecursionError:  # far deeper than the limit: json's own guard stopped it
        _refuse_too_deep(data)
        raise
    if first_value:
        _refuse_too_deep(data[start:end])  # only the value read counts (Go ignores the rest)
    elif data[end:].strip(_WHITESPACE):
        raise _syntax_error(data, json.JSONDecodeError("Extra data", data, end))
    return value


def _refuse_too_deep(text: str) -> None:
    if (deep := too_deep(text)) is not None:
        raise FieldError(
            deep.path,
            f"JSON nested deeper than {MAX_DEPTH} levels at line {deep.line} column {deep.column}",
            f"invalid character {deep.bracket!r} exceeded max depth "
            f"(this emulator allows {MAX_DEPTH} levels of nesting)",
        )


def _syntax_error(text: str, err: json.JSONDecodeError) -> FieldError:
    """Our message (position) and Go's (the offending character) for a syntax error."""
    ours = f"malformed JSON: {err.msg} at line {err.lineno} column {err.colno}"
    if err.pos >= len(text.rstrip(_WHITESPACE)):
        return FieldError("", ours, "unexpected EOF")
    char = text[err.pos]
    if err.msg.startswith("invalid character"):
        go_text = err.msg
    elif "property name" in err.msg:
        go_text = f"invalid character {char!r} looking for beginning of object key string"
    elif "':' delimiter" in err.msg:
        go_text = f"invalid character {char!r} after object key"
    elif "delimiter" in err.msg:
        go_text = f"invalid character {char!r} after object key:value pair"
    elif err.msg == "Extra data":
        go_text = f"invalid character {char!r} after top-level value"
    else:
        go_text = f"invalid character {char!r} looking for beginning of value"
    return FieldError("", ours, go_text)


def fold(key: str) -> str:
    """Go's `EqualFold` key: Unicode simple case folding, one character to one (so the long
    s matches "s" and the Kelvin sign "k", but "ß" does not match "ss")."""
    if key.isascii():
        return key.lower()
    return "".join(f if len(f := c.casefold()) == 1 else c.lower() for c in key)


def json_kind(value: Any) -> str:
    """The JSON kind of a parsed value, as Go's messages name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, GoObject | Mapping):
        return "object"
    return "array"


def plain(value: Any, *, float64: bool = True) -> Any:
    """A parsed value as Go's ``interface{}`` holds it: objects are dicts (last duplicate
    wins), numbers float64 (integers stay ints with ``float64=False``). A number beyond
    float64 is a `FieldError`, as in Go."""
    return _plain(value, "", float64)


def _plain(value: Any, path: str, float64: bool) -> Any:
    if isinstance(value, GoObject):
        return {k: _plain(v, f"{path}[{k!r}]", float64) for k, v in value}
    if isinstance(value, list):
        return [_plain(v, f"{path}[{i}]", float64) for i, v in enumerate(value)]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, NumberLiteral):
        if not value.finite:
            raise FieldError(path, cannot_hold_float64(value), cannot_hold_float64(value))
        return float(value)
    return float(value) if float64 else value


def sorted_deep(value: Any) -> Any:
    """Maps sorted by key at every level, as Go marshals ``map[string]...`` values."""
    if isinstance(value, Mapping):
        return {k: sorted_deep(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [sorted_deep(v) for v in value]
    return value


# --------------------------------------------------------------------------- writing


def escape(text: str) -> str:
    """A JSON string literal the way Go writes it."""
    out = _encode_basestring(text)
    if _GO_ESCAPE_NEEDED.search(out) is None:
        return out
    return _GO_ESCAPE.sub(_go_escape, out)


# json's C string encoder (what `json.dumps(text, ensure_ascii=False)` runs, without building a
# JSONEncoder per call: that was most of the cost of encoding the workflow input, measured);
# then what Go writes differently: <>& and U+2028/9 escaped, \b and \f as \u escapes. Every
# backslash in its output starts an escape, so matching `\\.` whole keeps an escaped backslash
# followed by "b" (the text `\b`) from being read as a backspace.
_encode_basestring: Callable[[str], str] = json.encoder.encode_basestring
_GO_ESCAPE_NEEDED = re.compile(r"[<>&\u2028\u2029]|\\[bf]")
_GO_ESCAPE = re.compile(r"[<>&\u2028\u2029]|\\.")
_GO_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
    "\\b": "\\u0008",
    "\\f": "\\u000c",
}


def _go_escape(match: re.Match[str]) -> str:
    found = match.group()
    return _GO_ESCAPES.get(found, found)


def go_float(value: float) -> str:
    """Format a float64 the way Go's encoding/json does (2, 1.5, 1e+21, 1e-07 -> 1e-7)."""
    if not math.isfinite(value):
        raise FieldError("", f"unsupported value: {value!r}")
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    if 1e-6 <= abs(value) < 1e21:
        # Go spells these out with the shortest round-tripping digits, as repr finds them.
        spelled = format(Decimal(repr(value)), "f")
        return spelled.rstrip("0").rstrip(".") if "." in spelled else spelled
    mantissa, _, exponent = repr(value).partition("e")
    if mantissa.endswith(".0"):
        mantissa = mantissa[:-2]
    sign = exponent[0] if exponent[0] in "+-" else "+"
    digits = exponent.lstrip("+-").lstrip("0") or "0"
    return f"{mantissa}e{sign}{digits}"


def dumps(value: Any) -> str:
    """Encode like Go's `json.Marshal`: compact, Go escapes and float format, dict order kept.

    A value nested deeper than `ENCODE_MAX_DEPTH` is a `FieldError` (parsed input never is:
    it was refused beyond `MAX_DEPTH`).
    """
    return _dump(value, 0)


def _dump(value: Any, depth: int) -> str:
    kind = type(value)
    if kind is str:  # most values: checked first, by exact type (a str subclass comes below)
        return escape(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return escape(value)
    if kind is not dict and not isinstance(value, Mapping | list | tuple):
        raise TypeError(f"cannot encode {type(value).__name__}")
    if depth >= ENCODE_MAX_DEPTH:
        raise FieldError("", f"cannot encode a value nested deeper than {ENCODE_MAX_DEPTH} levels")
    if kind is dict or isinstance(value, Mapping):
        pairs = value.items()
    elif isinstance(value, GoObject):
        pairs = value
    else:
        return "[" + ",".join([_dump(v, depth + 1) for v in value]) + "]"
    return "{" + ",".join([f"{escape(k)}:{_dump(v, depth + 1)}" for k, v in pairs]) + "}"


_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def dump_bytes(value: Any) -> bytes:
    """`dumps` as UTF-8 bytes; a lone surrogate is written as ``\\ufffd``, as Go writes
    invalid UTF-8."""
    text = dumps(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub(r"\\ufffd", text).encode("utf-8")
