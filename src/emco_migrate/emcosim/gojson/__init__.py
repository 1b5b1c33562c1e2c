"""Go's request pipeline as EMCO runs it: `encoding/json` decoding, re-marshalling, gojsonschema.

EMCO decodes a body into a Go struct (case-insensitive keys, unknown keys dropped, type
mismatches reported), re-marshals the struct and validates *that* against a JSON schema.
This package reproduces the three steps, with Go's and gojsonschema's message texts, for
dataclasses whose fields carry `go` metadata.
"""

from emco_migrate.emcosim.gojson.decode import decode_struct, go, register_codec
from emco_migrate.emcosim.gojson.encode import encode, go_json
from emco_migrate.emcosim.gojson.parse import EmptyBody, GoDecodeError, GoObject, parse_body
from emco_migrate.emcosim.gojson.schema import schema_errors

__all__ = [
    "EmptyBody",
    "GoDecodeError",
    "GoObject",
    "decode_struct",
    "encode",
    "go",
    "go_json",
    "parse_body",
    "register_codec",
    "schema_errors",
]
