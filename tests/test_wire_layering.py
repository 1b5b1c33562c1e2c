"""`wire/` is the ground floor: it imports nothing of the worker, the workflow clients, the
emulator or emcoctl (they import it)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

WIRE = Path(__file__).resolve().parents[1] / "src" / "emco_migrate" / "wire"
ABOVE = ("emcomigrate", "worker", "workflowclients", "emcosim", "emcoctl", "devstack")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_wire_imports_nothing_above_it() -> None:
    modules = sorted(WIRE.rglob("*.py"))
    assert modules
    for path in modules:
        above = {
            name
            for name in _imports(path)
            if any(name.startswith(f"emco_migrate.{part}") for part in ABOVE)
        }
        assert not above, f"{path.name} imports {sorted(above)}"


SRC = WIRE.parent
# What only wire/ may do: parse JSON keeping pairs (or with number hooks), fold keys, write
# Go's escapes and floats, sort maps deeply, spell Go's integer bounds. Each pattern names
# a helper of wire/gojson or wire/structs, or the stdlib hook it is built on.
GO_JSON_ONLY_IN_WIRE = {
    "object_pairs_hook": r"object_pairs_hook",
    "number/constant hooks": r"parse_(?:int|float|constant)\s*=",
    "a JSONDecoder or raw_decode": r"JSONDecoder|raw_decode",
    "Go key folding": r"\.casefold\(\)|def \w*fold\w*\(|EqualFold",
    "Go escapes": r"u003c|u2028",
    "Go float format": r"def \w*go_float\w*\(|1e\+21",
    "deep map sorting": r"def \w*sort\w*\(",
    "int32/int64 bounds": r"2\s*\*\*\s*(?:31|63)\b",
    "pair-keeping objects": r"class \w+\(list\[tuple\[str",
    "a struct decoder": r"def decode_struct|get_type_hints",
}


def test_no_go_json_outside_wire() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if WIRE in path.parents:
            continue
        text = path.read_text(encoding="utf-8")
        for what, pattern in GO_JSON_ONLY_IN_WIRE.items():
            for match in re.finditer(pattern, text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(SRC)}:{line}: {what} ({match.group()!r})")
    assert not found, "Go JSON outside wire/:\n" + "\n".join(found)


def test_the_old_homes_are_gone() -> None:
    assert not (SRC / "gowire.py").exists()
    for name in ("parse.py", "decode.py", "encode.py"):
        assert not (SRC / "emcosim" / "gojson" / name).exists()
