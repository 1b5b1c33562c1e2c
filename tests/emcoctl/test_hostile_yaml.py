"""Hostile emcoctl input (alias bombs, deep nesting, huge numbers, non-UTF-8 files) fails fast.

The command line is run for real (``python -m emco_migrate emcoctl``) with a timeout: what a
user sees is exit code 1 and exactly one line on stderr naming the file, no traceback, and no
request sent (the configured EMCO address does not listen). The decoding itself is also timed
in-process, in a thread with a deadline.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from emco_migrate.emcoctl import goyaml
from emco_migrate.emcoctl.documents import DocumentError, parse_documents
from emco_migrate.emcoctl.goyaml import MAX_DEPTH, GoYamlError, load_first, to_json
from support import waiting

T = TypeVar("T")

DEADLINE = 2.0  # seconds, in-process; each case takes milliseconds
CLI_DEADLINE = 20.0  # seconds, the interpreter's start-up included

DOCUMENT = "version: emco/v2\nresourceContext: {anchor: projects}\nmetadata: {name: p1}\n"


def within_deadline(work: Callable[[], T], seconds: float = DEADLINE) -> T:
    return waiting.within_deadline(work, seconds)


def laughs(levels: int = 9, width: int = 9, indent: str = "") -> str:
    """The billion laughs: each anchor is a list of ``width`` aliases of the one before."""
    lines = [f"{indent}l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"{indent}l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int = 8, width: int = 10) -> str:
    """Merge keys that pull in the mapping before them ``width`` times at each level."""
    lines = ["m0: &m0 {" + ", ".join(f"k{i}: {i}" for i in range(50)) + "}"]
    for i in range(1, levels):
        lines.append(f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * width)}]}}")
    return "\n".join(lines) + "\n"


def deep_aliases(anchors: int = 30, depth: int = 50) -> str:
    """Each anchor nests the one before ``depth`` levels deeper: fine alone, deep expanded."""
    lines = []
    for i in range(anchors):
        inner = f"*a{i - 1}" if i else "x"
        lines.append(f"a{i}: &a{i} {'[' * depth}{inner}{']' * depth}")
    return "\n".join(lines) + "\n"


def spec(body: str) -> str:
    """A document whose spec holds ``body`` (a block mapping)."""
    return DOCUMENT + "spec:\n" + "".join(f"  {line}\n" for line in body.splitlines())


# --------------------------------------------------------------------------- decoding


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (laughs(), "yaml: document contains excessive aliasing"),
        (merge_bomb(), "yaml: document contains excessive aliasing"),
        ("v: " + "[" * 1000 + "]" * 1000, f"line 1: nested deeper than {MAX_DEPTH} levels"),
        ("v: " + "{a: " * 100_000, f"line 1: nested deeper than {MAX_DEPTH} levels"),
        (
            "".join("  " * i + f"k{i}:\n" for i in range(1000)),
            f"line {MAX_DEPTH + 1}: nested deeper than {MAX_DEPTH} levels",
        ),
        (
            deep_aliases(),  # the node too deep is in the first anchor, reached through others
            f"line 1: nested deeper than {MAX_DEPTH} levels (counting what aliases expand to)",
        ),
        ("a: &a [*a]\n", "line 1: recursive alias"),
        ("a: &a {<<: *a}\n", "line 1: recursive alias"),
    ],
)
def test_hostile_yaml_fails_fast_with_one_message(text: str, message: str) -> None:
    with pytest.raises(GoYamlError) as caught:
        within_deadline(lambda: load_first(text))
    assert str(caught.value) == message


def test_nesting_up_to_the_limit_is_decoded() -> None:
    value = within_deadline(
        lambda: load_first("v: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))
    )
    depth, inner = 1, value["v"]
    while inner:
        depth, inner = depth + 1, inner[0]
    assert depth == MAX_DEPTH - 1
    assert to_json(value).count("[") == MAX_DEPTH - 1


def test_ordinary_reuse_of_anchors_is_accepted() -> None:
    # yaml.v3 counts the alias itself too: a scalar reused thousands of times is half aliases.
    many = "port: &port 9015\nports: [" + ", ".join(["*port"] * 5000) + "]\n"
    assert within_deadline(lambda: load_first(many))["ports"] == [9015] * 5000
    lists = "l: &l [1, 2, 3]\nuses: [" + ", ".join(["*l"] * 2000) + "]\n"
    assert within_deadline(lambda: load_first(lists))["uses"] == [[1, 2, 3]] * 2000


def test_one_budget_covers_the_whole_document() -> None:
    # Each spec key alone stays under the limit; together they do not.
    keys = "".join(f"k{i}: *l5\n" for i in range(200))
    with pytest.raises(DocumentError, match="input: yaml: document contains excessive aliasing"):
        within_deadline(lambda: parse_documents(spec(laughs(levels=6, width=4) + keys)))


def test_the_bomb_in_a_spec_fails_before_any_body_is_built() -> None:
    with pytest.raises(DocumentError, match="input: yaml: document contains excessive aliasing"):
        within_deadline(lambda: parse_documents(spec(laughs())))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9" * 5000, "9" * 5000),  # beyond int64 and float64: a string, as in yaml.v3
        ("-" + "9" * 5000, "-" + "9" * 5000),
        ("0x" + "f" * 5000, "0x" + "f" * 5000),
        ("0b" + "1" * 64, 2**64 - 1),
        ("0b" + "0" * 5000 + "1", 1),
        ("9" * 300, 1e300),
    ],
)
def test_long_integers_resolve_without_building_huge_ints(text: str, expected: Any) -> None:
    assert within_deadline(lambda: load_first(f"v: {text}\n"))["v"] == expected
    assert goyaml.go_parse_int("9" * 5000) == 2**64


# --------------------------------------------------------------------------- the command line


@pytest.fixture
def config(tmp_path: Path) -> Path:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("ingress: {host: 127.0.0.1, port: 1}\n")  # nothing may be sent
    return cfg


def emcoctl(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "EMCO_"))}
    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "emco_migrate", "emcoctl", *args],
        capture_output=True, text=True, timeout=CLI_DEADLINE, env=environment,
    )  # fmt: skip
    assert time.monotonic() - began < CLI_DEADLINE
    return result


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""  # no request was made
    assert lines[0].startswith("emco-migrate emcoctl: error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (spec(laughs()), "doc.yaml: yaml: document contains excessive aliasing"),
        (spec(merge_bomb()), "doc.yaml: yaml: document contains excessive aliasing"),
        (DOCUMENT + "spec: {v: " + "[" * 5000 + "}\n", "doc.yaml: line 4: nested deeper than"),
        (spec(deep_aliases()), "doc.yaml: line "),
    ],
)
def test_apply_refuses_a_hostile_file_in_one_line(
    tmp_path: Path, config: Path, content: str, message: str
) -> None:
    doc = tmp_path / "doc.yaml"
    doc.write_text(content)
    line = one_line_error(emcoctl("--config", str(config), "apply", "-f", str(doc)))
    assert message in line


def test_apply_refuses_an_alias_bomb_in_the_values_file(tmp_path: Path, config: Path) -> None:
    doc = tmp_path / "doc.yaml"
    doc.write_text(DOCUMENT.replace("p1", "'{{.name}}'"))
    values = tmp_path / "values.yaml"
    values.write_text("name: p1\n" + laughs())
    line = one_line_error(
        emcoctl("--config", str(config), "apply", "-f", str(doc), "-v", str(values))
    )
    assert line.endswith(f"values file {values}: yaml: document contains excessive aliasing")


@pytest.mark.parametrize("which", ["-f", "-v", "--config"])
def test_a_file_that_is_not_utf8_is_named_in_one_line(
    tmp_path: Path, config: Path, which: str
) -> None:
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(DOCUMENT.encode() + b"description: caf\xe9\n")
    doc = tmp_path / "doc.yaml"
    doc.write_text(DOCUMENT)
    values = tmp_path / "values.yaml"
    values.write_text("name: p1\n")
    files = {"-f": doc, "-v": values, "--config": config}
    files[which] = latin1
    argv = ["--config", str(files["--config"]), "apply", "-f", str(files["-f"])]
    line = one_line_error(emcoctl(*argv, "-v", str(files["-v"])))
    offset = len(DOCUMENT) + len("description: caf")
    assert line.endswith(f"{latin1} is not UTF-8 text: invalid continuation byte at byte {offset}")
