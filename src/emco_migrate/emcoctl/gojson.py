"""JSON written like Go's ``json.Marshal`` of the values yaml.v3 decoded (emcoctl's bodies).

Map keys are sorted; whole floats come out as integer literals (``1e10`` -> ``10000000000``,
``2**64`` as a float -> ``18446744073709552000``); ``1.5`` stays ``1.5``; what Go cannot
encode (non-string map keys, NaN, infinities) is an error.
"""

from __future__ import annotations

import math
from typing import Any

from emco_migrate import gowire
from emco_migrate.emcoctl.goyaml import GoYamlError


def go_json_value(value: Any, path: str = "") -> Any:
    """Prepare a decoded value for Go-style JSON: maps sorted, types Go can encode.

    Raises `GoYamlError` where Go's ``json.Marshal`` fails: non-string map keys (yaml.v3
    makes those a ``map[interface{}]interface{}``) and NaN or infinite floats.
    """
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise GoYamlError(
                    f"{path or 'value'}: the mapping key {key!r} is not a string "
                    "(json: unsupported type map[interface {}]interface {})"
                )
        return {k: go_json_value(value[k], f"{path}.{k}" if path else k) for k in sorted(value)}
    if isinstance(value, list):
        return [go_json_value(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        raise GoYamlError(f"{path or 'value'}: json: unsupported value: {_special_float(value)}")
    return value


def _special_float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "+Inf" if value > 0 else "-Inf"


def to_json(value: Any) -> str:
    """Encode like Go's ``json.Marshal`` of the yaml.v3-decoded value."""
    return gowire.dumps(go_json_value(value))
