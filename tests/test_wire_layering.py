"""`wire/` is the ground floor: it imports nothing of the worker, the workflow clients, the
emulator or emcoctl (they import it)."""

from __future__ import annotations

import ast
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
