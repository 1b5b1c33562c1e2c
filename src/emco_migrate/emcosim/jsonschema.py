"""JSON-schema validation with gojsonschema's (v1.2.0) error texts and evaluation order.

Only the keywords EMCO's schemas use are supported: type, properties, required,
additionalProperties, items, pattern, minLength, maxLength, enum, oneOf, anyOf, not.
For a failed oneOf/anyOf, gojsonschema also reports the errors of the best-scoring branch
(the first among equals), which is what EMCO's app-intent handler relies on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

Schema = dict[str, Any]


@dataclass
class _Result:
    errors: list[str] = field(default_factory=list)
    score: int = 0

    @property
    def valid(self) -> bool:
        """No errors recorded."""
        return not self.errors


def schema_errors(schema: Schema, document: Any) -> list[str]:
    """gojsonschema's error descriptions for ``document``, in its order (empty = valid)."""
    result = _Result()
    _validate(schema, document, result)
    return result.errors


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _types(schema: Schema) -> list[str]:
    declared = schema.get("type")
    if declared is None:
        return []
    return [declared] if isinstance(declared, str) else list(declared)


def _type_matches(types: list[str], actual: str) -> bool:
    return actual in types or (actual == "integer" and "number" in types)


@lru_cache(maxsize=64)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _validate(schema: Schema, node: Any, result: _Result) -> None:
    types = _types(schema)
    actual = _json_type(node)
    if types and not _type_matches(types, actual):
        result.errors.append(f"Invalid type. Expected: {'/'.join(types)}, given: {actual}")
        return
    _combinators(schema, node, result)
    if isinstance(node, dict):
        _object(schema, node, result)
    elif isinstance(node, list):
        for item in node if "items" in schema else ():
            _validate(schema["items"], item, result)
    elif isinstance(node, str):
        _string(schema, node, result)
    if "enum" in schema and node not in schema["enum"]:
        allowed = ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in schema["enum"])
        result.errors.append(f"must be one of the following: {allowed}")
    if isinstance(node, dict):
        for name, child in schema.get("properties", {}).items():
            if name in node:
                _validate(child, node[name], result)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for name, value in node.items():
                if name not in schema.get("properties", {}):
                    _validate(extra, value, result)


def _combinators(schema: Schema, node: Any, result: _Result) -> None:
    for keyword, message in (
        ("anyOf", "Must validate at least one schema (anyOf)"),
        ("oneOf", "Must validate one and only one schema (oneOf)"),
    ):
        if keyword not in schema:
            continue
        passed = 0
        best: _Result | None = None
        for branch in schema[keyword]:
            sub = _Result()
            _validate(branch, node, sub)
            if sub.valid:
                passed += 1
            elif passed == 0 and (best is None or sub.score > best.score):
                best = sub
        failed = passed == 0 if keyword == "anyOf" else passed != 1
        if failed:
            result.errors.append(message)
            if passed == 0 and best is not None:
                result.errors.extend(best.errors)
    if "not" in schema:
        sub = _Result()
        _validate(schema["not"], node, sub)
        if sub.valid:
            result.errors.append("Must not validate the schema (not)")


def _object(schema: Schema, node: dict[str, Any], result: _Result) -> None:
    for name in schema.get("required", ()):
        if name in node:
            result.score += 1
        else:
            result.errors.append(f"{name} is required")
    if schema.get("additionalProperties") is False:
        allowed = schema.get("properties", {})
        for name in node:
            if name not in allowed:
                result.errors.append(f"Additional property {name} is not allowed")


def _string(schema: Schema, node: str, result: _Result) -> None:
    if "minLength" in schema and len(node) < schema["minLength"]:
        result.errors.append(
            f"String length must be greater than or equal to {schema['minLength']}"
        )
    if "maxLength" in schema and len(node) > schema["maxLength"]:
        result.errors.append(f"String length must be less than or equal to {schema['maxLength']}")
    if "pattern" in schema and not _regex(schema["pattern"]).search(node):
        result.errors.append(f"Does not match pattern '{schema['pattern']}'")
