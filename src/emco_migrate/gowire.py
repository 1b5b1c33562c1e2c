"""The Go wire format of EMCO's Temporal specs: parsed and emitted here and nowhere else.

EMCO's workflowmgr and the Go reference client encode Temporal SDK v1.13.1 structs with no
JSON tags: keys are Go field names, durations are integer nanoseconds, every field is always
emitted. Decoding follows Go's `encoding/json`: an exact key match first, else a
case-insensitive one; the last duplicate wins; unknown keys are ignored; ``null`` leaves a
field at its zero value; integers must be integer literals. See docs/ARCHITECTURE.md.

Hostile input is refused with a `WireError`, never a crash or a long computation: text nested
deeper than `MAX_DEPTH` levels (Go allows 10000; EMCO's bodies nest about six deep), numbers
beyond float64 where Go decodes a float64 (``1e400`` in a memo), integer literals beyond int64
in integer fields (a 5,000-digit literal is never turned into a Python int). Lone UTF-16
surrogate escapes (``"\\ud800"``) become U+FFFD, as Go's decoder makes them.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate
from typing import Any, TypeVar

T = TypeVar("T")

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)

# How deeply arrays and objects may nest in JSON text we read. Every walk over a parsed value
# (decoding, sorting, encoding) recurses once per level, so this keeps them far from Python's
# recursion limit (1000) whatever the caller's stack. What we emit may nest a few levels more
# (a list of stored objects); the encoder refuses beyond `ENCODE_MAX_DEPTH`.
MAX_DEPTH = 100
ENCODE_MAX_DEPTH = 2 * MAX_DEPTH
# Integer literals of more digits than this are beyond int64 and uint64 (20 digits).
_INT_DIGITS = 20


class WireError(ValueError):
    """Input that Go's decoder would refuse; ``field`` is the dotted path of the culprit."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"{field_path}: {message}" if field_path else message)
        self.field = field_path
        self.reason = message


# --------------------------------------------------------------------------- JSON text


class _Pairs:
    """A JSON object as its key/value pairs in document order (duplicates kept)."""

    __slots__ = ("items",)

    def __init__(self, items: list[tuple[str, Any]]) -> None:
        self.items = items


class NumberLiteral(float):
    """A JSON number whose Python value is not what Go would decode; its text is kept.

    Integer literals longer than any int64 or uint64 (the float is the nearest float64, which
    is what Go's ``interface{}`` holds, and no huge Python int is built) and numbers beyond
    float64's range (the float is ±inf). Decoding refuses them where Go would.
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


def json_int(text: str) -> int | NumberLiteral:
    """``parse_int`` for `json`: an int up to 20 digits, a `NumberLiteral` beyond."""
    digits = len(text) - (text[0] == "-")
    return int(text) if digits <= _INT_DIGITS else NumberLiteral(text)


def json_float(text: str) -> float:
    """``parse_float`` for `json`: a float, or a `NumberLiteral` when beyond float64."""
    value = float(text)
    return value if math.isfinite(value) else NumberLiteral(text)


def cannot_hold_float64(number: NumberLiteral) -> str:
    """Go's error for a number out of float64's range (into ``float64`` or ``interface{}``)."""
    return f"json: cannot unmarshal number {number.short()} into Go value of type float64"


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

    Brackets inside strings do not count. Linear time, and cheap when the text is shallow (the
    usual case): meant to run before a parser whose own recursion the text could exhaust.
    """
    if text.count("[") + text.count("{") <= limit:
        return None
    brackets = _STRINGS.sub("", text).encode("utf-8", "ignore")
    steps = array("b", brackets.translate(_OPENERS_CLOSERS, _NOT_BRACKETS))
    if max(accumulate(steps), default=0) <= limit:
        return None
    return _locate_too_deep(text, limit)


def _locate_too_deep(text: str, limit: int) -> TooDeep | None:
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
        path = f"{path}[{position}]" if bracket == "[" else _join(path, str(position)[:40])
    return path + ("..." if len(stack) > segments else "")


def replace_lone_surrogates(text: str) -> str:
    """Turn ``\\uXXXX`` escapes of unpaired UTF-16 surrogates into ``\\ufffd``, as Go decodes them.

    Python's json would keep them as lone surrogates, which no UTF-8 encoder accepts later.
    """
    if "\\u" not in text:
        return text
    return _SURROGATE_ESCAPES.sub(_surrogate_escape, text)


def _surrogate_escape(match: re.Match[str]) -> str:
    return "\\ufffd" if len(match.group()) == 6 else match.group()


def loads(data: bytes | str) -> Any:
    """Parse JSON text keeping every object's pairs in order, as Go's decoder sees them.

    Raises `WireError` for malformed JSON, naming the position, and for text nested deeper
    than `MAX_DEPTH` levels, naming where.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise WireError("", f"body is not UTF-8 (byte {err.start})") from None
    if (deep := too_deep(data)) is not None:
        raise WireError(
            deep.path,
            f"JSON nested deeper than {MAX_DEPTH} levels at line {deep.line} column {deep.column}",
        )
    try:
        return json.loads(
            replace_lone_surrogates(data),
            object_pairs_hook=_Pairs,
            parse_constant=_reject_constant,
            parse_int=json_int,
            parse_float=json_float,
        )
    except json.JSONDecodeError as err:
        raise WireError(
            "", f"malformed JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from None


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"invalid literal {name}", name, 0)


def _pairs(value: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(value, _Pairs):
        return value.items
    if isinstance(value, Mapping):
        return value.items()
    raise TypeError(value)


def _is_object(value: Any) -> bool:
    return isinstance(value, _Pairs | Mapping)


def plain(value: Any) -> Any:
    """Turn parsed pairs back into dicts (last duplicate wins), recursively."""
    if _is_object(value):
        return {k: plain(v) for k, v in _pairs(value)}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, NumberLiteral):
        return float(value)
    return value


def _go_escape(text: str) -> str:
    out = json.dumps(text, ensure_ascii=False)
    return (
        out.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
        .replace("\\b", "\\u0008")
        .replace("\\f", "\\u000c")
    )


def go_float(value: float) -> str:
    """Format a float64 the way Go's encoding/json does (2, 1.5, 1e+21, 1e-07 -> 1e-7)."""
    if not math.isfinite(value):
        raise WireError("", f"unsupported value: {value!r}")
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    if 1e-6 <= abs(value) < 1e21:
        # Go spells these out with the shortest round-tripping digits, as repr finds them.
        return _spelled_out(repr(value))
    mantissa, _, exponent = repr(value).partition("e")
    if mantissa.endswith(".0"):
        mantissa = mantissa[:-2]
    sign = exponent[0] if exponent[0] in "+-" else "+"
    digits = exponent.lstrip("+-").lstrip("0") or "0"
    return f"{mantissa}e{sign}{digits}"


def _spelled_out(text: str) -> str:
    """repr() digits without an exponent: '1.8446744073709552e+19' -> '18446744073709552000'."""
    plain = format(Decimal(text), "f")
    return plain.rstrip("0").rstrip(".") if "." in plain else plain


def dumps(value: Any) -> str:
    """Encode like Go's `json.Marshal`: compact, Go escapes and float format.

    Dict keys keep their insertion order, so callers emit structs in Go declaration order
    and maps sorted (as Go does). A value nested deeper than `ENCODE_MAX_DEPTH` is a
    `WireError` (parsed input never is: it was refused beyond `MAX_DEPTH`).
    """
    return _dump(value, 0)


def _dump(value: Any, depth: int) -> str:
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
        return _go_escape(value)
    if isinstance(value, Mapping | list | tuple) and depth >= ENCODE_MAX_DEPTH:
        raise WireError("", f"cannot encode a value nested deeper than {ENCODE_MAX_DEPTH} levels")
    if isinstance(value, Mapping):
        return (
            "{" + ",".join(f"{_go_escape(k)}:{_dump(v, depth + 1)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ",".join(_dump(v, depth + 1) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__}")


_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def dump_bytes(value: Any) -> bytes:
    """`dumps` as UTF-8 bytes.

    A lone surrogate (a str that is not Unicode text) is written as ``\\ufffd``, as Go writes
    invalid UTF-8.
    """
    text = dumps(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub(r"\\ufffd", text).encode("utf-8")


# --------------------------------------------------------------------------- Go decoding


def _fold(key: str) -> str:
    # Go's EqualFold uses Unicode simple folding; casefold() also folds the long s
    # (U+017F) to "s" and the Kelvin sign (U+212A) to "k", as Go does.
    return key.casefold()


def _go_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _struct_fields(value: Any, path: str, names: Iterable[str], go_type: str) -> dict[str, Any]:
    """Match an object's keys to Go field names; return {field: raw value} (last wins)."""
    if value is None:
        return {}
    if not _is_object(value):
        raise WireError(path, f"expected an object ({go_type}), got {_go_type(value)}")
    names = list(names)
    exact = set(names)
    folded = {_fold(n): n for n in names}
    found: dict[str, Any] = {}
    for key, raw in _pairs(value):
        name = key if key in exact else folded.get(_fold(key))
        if name is not None:
            found[name] = raw
    return found


def _unknown_keys(value: Any, names: Iterable[str]) -> tuple[str, ...]:
    """The keys of an object that match no Go field name (Go's decoder drops them)."""
    if not _is_object(value):
        return ()
    names = list(names)
    exact, folded = set(names), {_fold(n) for n in names}
    return tuple(k for k, _ in _pairs(value) if k not in exact and _fold(k) not in folded)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _string(value: Any, path: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WireError(path, f"expected a string, got {_go_type(value)}")
    return value


def _bool(value: Any, path: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise WireError(path, f"expected true or false, got {_go_type(value)}")
    return value


def _int(value: Any, path: str, bounds: tuple[int, int], what: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WireError(path, f"expected {what}, got {_go_type(value)}")
    if isinstance(value, NumberLiteral):
        if value.integral:
            raise WireError(path, f"{value.short()} is out of range for {what}")
        raise WireError(path, f"expected {what}, got the non-integer number {value.short()}")
    if isinstance(value, float):
        raise WireError(path, f"expected {what}, got the non-integer number {value!r}")
    if not bounds[0] <= value <= bounds[1]:
        raise WireError(path, f"{value} is out of range for {what}")
    return value


def _duration(value: Any, path: str) -> int:
    return _int(value, path, INT64, "an integer number of nanoseconds")


def _float(value: Any, path: str) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WireError(path, f"expected a number, got {_go_type(value)}")
    if isinstance(value, NumberLiteral) and not value.finite:
        raise WireError(path, cannot_hold_float64(value))
    return float(value)


def _string_list(value: Any, path: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise WireError(path, f"expected an array of strings, got {_go_type(value)}")
    return tuple(_string(v, f"{path}[{i}]") for i, v in enumerate(value))


def _map(value: Any, path: str, decode: Callable[[Any, str], T], what: str) -> dict[str, T] | None:
    if value is None:
        return None
    if not _is_object(value):
        raise WireError(path, f"expected an object ({what}), got {_go_type(value)}")
    out: dict[str, T] = {}
    for key, raw in _pairs(value):
        out[key] = decode(raw, f"{path}[{key!r}]")
    return out


def _any_object(value: Any, path: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not _is_object(value):
        raise WireError(path, f"expected an object, got {_go_type(value)}")
    return {k: _go_interface(v, f"{path}[{k!r}]") for k, v in _pairs(value)}


def _go_interface(value: Any, path: str) -> Any:
    """A value decoded into Go's interface{}: numbers become float64, objects maps."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        if isinstance(value, NumberLiteral) and not value.finite:
            raise WireError(path, cannot_hold_float64(value))
        return float(value)
    if isinstance(value, list):
        return [_go_interface(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return {k: _go_interface(v, f"{path}[{k!r}]") for k, v in _pairs(value)}


# --------------------------------------------------------------------------- SDK structs


@dataclass(frozen=True)
class RetryPolicySpec:
    """`temporal.RetryPolicy` as Go sends it; 0 means "unset" everywhere."""

    initial_interval_ns: int = 0
    backoff_coefficient: float = 0.0
    maximum_interval_ns: int = 0
    maximum_attempts: int = 0
    non_retryable_error_types: tuple[str, ...] | None = None
    # Keys Go's decoder dropped; emco-migrate refuses them in activity options.
    unknown_keys: tuple[str, ...] = field(default=(), compare=False, repr=False)

    GO_NAMES = (
        "InitialInterval",
        "BackoffCoefficient",
        "MaximumInterval",
        "MaximumAttempts",
        "NonRetryableErrorTypes",
    )

    @classmethod
    def decode(cls, value: Any, path: str) -> RetryPolicySpec | None:
        """Decode a Go `*RetryPolicy` (``null`` -> None)."""
        if value is None:
            return None
        f = _struct_fields(value, path, cls.GO_NAMES, "RetryPolicy")
        return cls(
            initial_interval_ns=_duration(f.get("InitialInterval"), _join(path, "InitialInterval")),
            backoff_coefficient=_float(
                f.get("BackoffCoefficient"), _join(path, "BackoffCoefficient")
            ),
            maximum_interval_ns=_duration(f.get("MaximumInterval"), _join(path, "MaximumInterval")),
            maximum_attempts=_int(
                f.get("MaximumAttempts"), _join(path, "MaximumAttempts"), INT32, "an int32"
            ),
            non_retryable_error_types=_string_list(
                f.get("NonRetryableErrorTypes"), _join(path, "NonRetryableErrorTypes")
            ),
            unknown_keys=_unknown_keys(value, cls.GO_NAMES),
        )

    def encode(self) -> dict[str, Any]:
        """The Go JSON object, fields in declaration order."""
        return {
            "InitialInterval": self.initial_interval_ns,
            "BackoffCoefficient": self.backoff_coefficient,
            "MaximumInterval": self.maximum_interval_ns,
            "MaximumAttempts": self.maximum_attempts,
            "NonRetryableErrorTypes": (
                None
                if self.non_retryable_error_types is None
                else list(self.non_retryable_error_types)
            ),
        }


@dataclass(frozen=True)
class ActivityOptionsSpec:
    """`workflow.ActivityOptions` as Go sends it."""

    task_queue: str = ""
    schedule_to_close_ns: int = 0
    schedule_to_start_ns: int = 0
    start_to_close_ns: int = 0
    heartbeat_ns: int = 0
    wait_for_cancellation: bool = False
    activity_id: str = ""
    retry_policy: RetryPolicySpec | None = None
    # Keys Go's decoder dropped; emco-migrate refuses them (`options.ActivitySettings`).
    unknown_keys: tuple[str, ...] = field(default=(), compare=False, repr=False)

    GO_NAMES = (
        "TaskQueue",
        "ScheduleToCloseTimeout",
        "ScheduleToStartTimeout",
        "StartToCloseTimeout",
        "HeartbeatTimeout",
        "WaitForCancellation",
        "ActivityID",
        "RetryPolicy",
    )

    @classmethod
    def decode(cls, value: Any, path: str) -> ActivityOptionsSpec:
        """Decode a Go `ActivityOptions` value (``null`` -> zero value)."""
        f = _struct_fields(value, path, cls.GO_NAMES, "ActivityOptions")
        return cls(
            task_queue=_string(f.get("TaskQueue"), _join(path, "TaskQueue")),
            schedule_to_close_ns=_duration(
                f.get("ScheduleToCloseTimeout"), _join(path, "ScheduleToCloseTimeout")
            ),
            schedule_to_start_ns=_duration(
                f.get("ScheduleToStartTimeout"), _join(path, "ScheduleToStartTimeout")
            ),
            start_to_close_ns=_duration(
                f.get("StartToCloseTimeout"), _join(path, "StartToCloseTimeout")
            ),
            heartbeat_ns=_duration(f.get("HeartbeatTimeout"), _join(path, "HeartbeatTimeout")),
            wait_for_cancellation=_bool(
                f.get("WaitForCancellation"), _join(path, "WaitForCancellation")
            ),
            activity_id=_string(f.get("ActivityID"), _join(path, "ActivityID")),
            retry_policy=RetryPolicySpec.decode(f.get("RetryPolicy"), _join(path, "RetryPolicy")),
            unknown_keys=_unknown_keys(value, cls.GO_NAMES),
        )

    def encode(self) -> dict[str, Any]:
        """The Go JSON object, fields in declaration order."""
        return {
            "TaskQueue": self.task_queue,
            "ScheduleToCloseTimeout": self.schedule_to_close_ns,
            "ScheduleToStartTimeout": self.schedule_to_start_ns,
            "StartToCloseTimeout": self.start_to_close_ns,
            "HeartbeatTimeout": self.heartbeat_ns,
            "WaitForCancellation": self.wait_for_cancellation,
            "ActivityID": self.activity_id,
            "RetryPolicy": None if self.retry_policy is None else self.retry_policy.encode(),
        }


@dataclass(frozen=True)
class StartOptionsSpec:
    """`client.StartWorkflowOptions` as Go sends it."""

    id: str = ""
    task_queue: str = ""
    execution_timeout_ns: int = 0
    run_timeout_ns: int = 0
    task_timeout_ns: int = 0
    id_reuse_policy: int = 0
    error_when_already_started: bool = False
    retry_policy: RetryPolicySpec | None = None
    cron_schedule: str = ""
    memo: dict[str, Any] | None = None
    search_attributes: dict[str, Any] | None = None

    GO_NAMES = (
        "ID",
        "TaskQueue",
        "WorkflowExecutionTimeout",
        "WorkflowRunTimeout",
        "WorkflowTaskTimeout",
        "WorkflowIDReusePolicy",
        "WorkflowExecutionErrorWhenAlreadyStarted",
        "RetryPolicy",
        "CronSchedule",
        "Memo",
        "SearchAttributes",
    )

    @classmethod
    def decode(cls, value: Any, path: str) -> StartOptionsSpec:
        """Decode a Go `StartWorkflowOptions` value."""
        f = _struct_fields(value, path, cls.GO_NAMES, "StartWorkflowOptions")
        return cls(
            id=_string(f.get("ID"), _join(path, "ID")),
            task_queue=_string(f.get("TaskQueue"), _join(path, "TaskQueue")),
            execution_timeout_ns=_duration(
                f.get("WorkflowExecutionTimeout"), _join(path, "WorkflowExecutionTimeout")
            ),
            run_timeout_ns=_duration(
                f.get("WorkflowRunTimeout"), _join(path, "WorkflowRunTimeout")
            ),
            task_timeout_ns=_duration(
                f.get("WorkflowTaskTimeout"), _join(path, "WorkflowTaskTimeout")
            ),
            id_reuse_policy=_int(
                f.get("WorkflowIDReusePolicy"),
                _join(path, "WorkflowIDReusePolicy"),
                INT32,
                "an integer WorkflowIdReusePolicy (0-3)",
            ),
            error_when_already_started=_bool(
                f.get("WorkflowExecutionErrorWhenAlreadyStarted"),
                _join(path, "WorkflowExecutionErrorWhenAlreadyStarted"),
            ),
            retry_policy=RetryPolicySpec.decode(f.get("RetryPolicy"), _join(path, "RetryPolicy")),
            cron_schedule=_string(f.get("CronSchedule"), _join(path, "CronSchedule")),
            memo=_any_object(f.get("Memo"), _join(path, "Memo")),
            search_attributes=_any_object(
                f.get("SearchAttributes"), _join(path, "SearchAttributes")
            ),
        )

    def encode(self) -> dict[str, Any]:
        """The Go JSON object, fields in declaration order, maps sorted."""
        return {
            "ID": self.id,
            "TaskQueue": self.task_queue,
            "WorkflowExecutionTimeout": self.execution_timeout_ns,
            "WorkflowRunTimeout": self.run_timeout_ns,
            "WorkflowTaskTimeout": self.task_timeout_ns,
            "WorkflowIDReusePolicy": self.id_reuse_policy,
            "WorkflowExecutionErrorWhenAlreadyStarted": self.error_when_already_started,
            "RetryPolicy": None if self.retry_policy is None else self.retry_policy.encode(),
            "CronSchedule": self.cron_schedule,
            "Memo": _sorted_deep(self.memo),
            "SearchAttributes": _sorted_deep(self.search_attributes),
        }


def _sorted_deep(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _sorted_deep(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_deep(v) for v in value]
    return value


@dataclass(frozen=True)
class WorkflowParamsSpec:
    """EMCO's `WorkflowParams`: per-activity options and string parameters."""

    activity_options: dict[str, ActivityOptionsSpec] | None = None
    activity_params: dict[str, dict[str, str] | None] | None = None

    GO_NAMES = ("activityOptions", "activityParams")

    @classmethod
    def decode(cls, value: Any, path: str = "") -> WorkflowParamsSpec:
        """Decode a `WorkflowParams` object (tags `activityOptions`, `activityParams`)."""
        f = _struct_fields(value, path, cls.GO_NAMES, "WorkflowParams")
        options_path = _join(path, "activityOptions")
        params_path = _join(path, "activityParams")
        return cls(
            activity_options=_map(
                f.get("activityOptions"),
                options_path,
                ActivityOptionsSpec.decode,
                "activity name -> ActivityOptions",
            ),
            activity_params=_map(
                f.get("activityParams"),
                params_path,
                lambda v, p: _map(v, p, _string, "parameter name -> string"),
                "activity name -> parameters",
            ),
        )

    def encode(self) -> dict[str, Any]:
        """Go JSON: both keys are `omitempty`, so nil or empty maps are left out."""
        out: dict[str, Any] = {}
        if self.activity_options:
            out["activityOptions"] = {
                k: self.activity_options[k].encode() for k in sorted(self.activity_options)
            }
        if self.activity_params:
            out["activityParams"] = {
                k: (None if v is None else {pk: v[pk] for pk in sorted(v)})
                for k, v in sorted(self.activity_params.items())
            }
        return out


@dataclass(frozen=True)
class TemporalSpec:
    """EMCO's `WfTemporalSpec`: the body workflowmgr POSTs to ``/invoke/{client}``."""

    workflow_client_name: str = ""
    start_options: StartOptionsSpec = field(default_factory=StartOptionsSpec)
    params: WorkflowParamsSpec = field(default_factory=WorkflowParamsSpec)

    GO_NAMES = ("workflowClientName", "workflowStartOptions", "workflowParams")

    @classmethod
    def decode(cls, value: Any, path: str = "") -> TemporalSpec:
        """Decode a parsed `WfTemporalSpec` object."""
        f = _struct_fields(value, path, cls.GO_NAMES, "WfTemporalSpec")
        return cls(
            workflow_client_name=_string(
                f.get("workflowClientName"), _join(path, "workflowClientName")
            ),
            start_options=StartOptionsSpec.decode(
                f.get("workflowStartOptions"), _join(path, "workflowStartOptions")
            ),
            params=WorkflowParamsSpec.decode(
                f.get("workflowParams"), _join(path, "workflowParams")
            ),
        )

    @classmethod
    def from_json(cls, data: bytes | str) -> TemporalSpec:
        """Parse JSON text with Go's rules; raises `WireError`."""
        return cls.decode(loads(data))

    def encode(self) -> dict[str, Any]:
        """The Go JSON object (workflowParams is always emitted, as Go does)."""
        return {
            "workflowClientName": self.workflow_client_name,
            "workflowStartOptions": self.start_options.encode(),
            "workflowParams": self.params.encode(),
        }

    def to_json(self) -> bytes:
        """The exact bytes workflowmgr would POST."""
        return dump_bytes(self.encode())


def decode_workflow_params(data: bytes | str) -> WorkflowParamsSpec:
    """Decode the workflow input payload (`*WorkflowParams`); raises `WireError`."""
    value = loads(data)
    if value is None:
        raise WireError("", "workflow input is null; expected a WorkflowParams object")
    return WorkflowParamsSpec.decode(value)


# --------------------------------------------------------------------------- MigParam


@dataclass(frozen=True)
class AppIntentRef:
    """`AppNameIntentPair`: an app and the name of its placement intent."""

    app: str
    intent: str


@dataclass(frozen=True)
class MigParam:
    """The Go reference's activity input/output and workflow result (`MigParam`).

    ``extensions`` carries this implementation's additional result fields; they are
    emitted after the Go fields, which Go readers ignore.
    """

    in_params: dict[str, str] | None = None
    placement_intents_url: str = ""
    placement_intents: tuple[str, ...] | None = None
    app_intents: dict[str, tuple[AppIntentRef, ...] | None] | None = None
    extensions: dict[str, Any] = field(default_factory=dict)

    GO_NAMES = (
        "InParams",
        "GenericPlacementIntentURL",
        "GenericPlacementIntents",
        "AppNameIntentPairs",
    )

    @classmethod
    def decode(cls, value: Any, path: str = "") -> MigParam:
        """Decode a MigParam object, keeping unknown keys as ``extensions``."""
        f = _struct_fields(value, path, cls.GO_NAMES, "MigParam")
        pairs_path = _join(path, "AppNameIntentPairs")

        def decode_pairs(v: Any, p: str) -> tuple[AppIntentRef, ...] | None:
            if v is None:
                return None
            if not isinstance(v, list):
                raise WireError(p, f"expected an array, got {_go_type(v)}")
            refs = []
            for i, item in enumerate(v):
                g = _struct_fields(item, f"{p}[{i}]", ("AppName", "AppIntentName"), "pair")
                refs.append(
                    AppIntentRef(
                        app=_string(g.get("AppName"), f"{p}[{i}].AppName"),
                        intent=_string(g.get("AppIntentName"), f"{p}[{i}].AppIntentName"),
                    )
                )
            return tuple(refs)

        folded = {_fold(n) for n in cls.GO_NAMES}
        extensions = (
            {k: plain(v) for k, v in _pairs(value) if _fold(k) not in folded}
            if _is_object(value)
            else {}
        )
        return cls(
            in_params=_map(f.get("InParams"), _join(path, "InParams"), _string, "strings"),
            placement_intents_url=_string(
                f.get("GenericPlacementIntentURL"), _join(path, "GenericPlacementIntentURL")
            ),
            placement_intents=_string_list(
                f.get("GenericPlacementIntents"), _join(path, "GenericPlacementIntents")
            ),
            app_intents=_map(f.get("AppNameIntentPairs"), pairs_path, decode_pairs, "pairs"),
            extensions=extensions,
        )

    @classmethod
    def from_json(cls, data: bytes | str) -> MigParam:
        """Parse JSON text with Go's rules; raises `WireError`."""
        return cls.decode(loads(data))

    def encode(self) -> dict[str, Any]:
        """Go JSON: declaration order, maps sorted, extensions last."""
        out: dict[str, Any] = {
            "InParams": None if self.in_params is None else _sorted_deep(self.in_params),
            "GenericPlacementIntentURL": self.placement_intents_url,
            "GenericPlacementIntents": (
                None if self.placement_intents is None else list(self.placement_intents)
            ),
            "AppNameIntentPairs": (
                None
                if self.app_intents is None
                else {
                    gpi: (
                        None
                        if refs is None
                        else [{"AppName": r.app, "AppIntentName": r.intent} for r in refs]
                    )
                    for gpi, refs in sorted(self.app_intents.items())
                }
            ),
        }
        out.update(self.extensions)
        return out

    def to_json(self) -> bytes:
        """The bytes Go's `json.Marshal(&migParam)` produces (plus any extensions)."""
        return dump_bytes(self.encode())
