"""Reading a request body the way Go's `json.Decoder.Decode` does.

Only the first JSON value is read (trailing bytes are ignored), an empty body is `io.EOF`,
and objects keep their key/value pairs in order with duplicates, for Go's key matching.

Hostile bodies get Go's decoder errors, in bounded time: nesting deeper than
`gowire.MAX_DEPTH` levels is refused as Go refuses 10000 (``exceeded max depth``); integer
literals beyond 64 bits and numbers beyond float64 are kept as `gowire.NumberLiteral` (their
text, never a huge int) for the decoder to refuse where Go would; lone surrogate escapes
become U+FFFD, as in Go.
"""

from __future__ import annotations

import json
from typing import Any

from emco_migrate import gowire

_WHITESPACE = " \t\r\n"


class GoObject(list[tuple[str, Any]]):
    """A JSON object as its key/value pairs in document order, duplicates kept."""


class EmptyBody(Exception):
    """The body held no JSON value at all (Go's decoder returns `io.EOF`)."""


class GoDecodeError(Exception):
    """Go's decoder refused the body; the message is Go's text."""


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(
        f"invalid character '{name[0]}' looking for beginning of value", name, 0
    )


_DECODER = json.JSONDecoder(
    object_pairs_hook=GoObject,
    parse_constant=_reject_constant,
    parse_int=gowire.json_int,
    parse_float=gowire.json_float,
)


def parse_body(data: bytes) -> Any:
    """The first JSON value in ``data``; `EmptyBody` or `GoDecodeError` like Go's decoder."""
    text = data.decode("utf-8", errors="replace")
    start = len(text) - len(text.lstrip(_WHITESPACE))
    if start == len(text):
        raise EmptyBody
    try:
        value, end = _DECODER.raw_decode(gowire.replace_lone_surrogates(text), start)
    except json.JSONDecodeError as err:
        raise GoDecodeError(_syntax_message(text, err)) from None
    except RecursionError:  # nested far deeper than the limit: json's own guard stopped it
        deep = gowire.too_deep(text)
        raise GoDecodeError(_too_deep(deep.bracket if deep else "[")) from None
    # Only the value read counts (Go ignores what follows it).
    if (deep := gowire.too_deep(text[start:end])) is not None:
        raise GoDecodeError(_too_deep(deep.bracket))
    return value


def _too_deep(bracket: str) -> str:
    return (
        f"invalid character {bracket!r} exceeded max depth "
        f"(this emulator allows {gowire.MAX_DEPTH} levels of nesting)"
    )


def _syntax_message(text: str, err: json.JSONDecodeError) -> str:
    if err.pos >= len(text.rstrip(_WHITESPACE)):
        return "unexpected EOF"
    char = text[err.pos]
    if err.msg.startswith("invalid character"):
        return err.msg
    if "property name" in err.msg:
        return f"invalid character {char!r} looking for beginning of object key string"
    if "':' delimiter" in err.msg:
        return f"invalid character {char!r} after object key"
    if "delimiter" in err.msg:
        return f"invalid character {char!r} after object key:value pair"
    return f"invalid character {char!r} looking for beginning of value"


def to_json_text(value: Any) -> str:
    """Serialize a parsed value back to JSON text, keeping duplicate keys and order."""
    if isinstance(value, GoObject):
        return "{" + ",".join(f"{json.dumps(k)}:{to_json_text(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json_text(v) for v in value) + "]"
    if isinstance(value, gowire.NumberLiteral):
        return value.text
    return json.dumps(value)
