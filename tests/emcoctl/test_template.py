"""The Go text/template subset used by ``-v values.yaml``."""

from __future__ import annotations

from typing import Any

import pytest

from emco_migrate.emcoctl.goyaml import load_first
from emco_migrate.emcoctl.template import TemplateError, format_float, format_value, render

VALUES = load_first(
    "ProjectName: proj1\n"
    "Port: 9090\n"
    "Ratio: 1.5\n"
    "Big: 1e10\n"
    "Flag: true\n"
    "Yes: yes\n"
    "Nothing: ~\n"
    "Nested:\n  Host: h1\n  Port: 0x10\n"
    "List: [a, 1]\n"
)


def text(template: str, data: Any = VALUES) -> str:
    return render(template, data).text


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("name: {{.ProjectName}}", "name: proj1"),
        ("name: {{ .ProjectName }}", "name: proj1"),
        ("port: {{.Port}}", "port: 9090"),
        ("r: {{.Ratio}} b: {{.Big}}", "r: 1.5 b: 1e+10"),
        ("f: {{.Flag}} y: {{.Yes}}", "f: true y: yes"),
        ("h: {{.Nested.Host}}:{{.Nested.Port}}", "h: h1:16"),
        ("l: {{.List}}", "l: [a 1]"),
        ("m: {{.Nested}}", "m: map[Host:h1 Port:16]"),
        ("a/{{.ProjectName}}/b/{{.ProjectName}}", "a/proj1/b/proj1"),
        ("no actions at all", "no actions at all"),
    ],
)
def test_fields_render_like_go(template: str, expected: str) -> None:
    assert text(template) == expected


def test_missing_keys_render_no_value_and_are_reported() -> None:
    rendered = render("a: {{.Missing}}\nb: {{.Nested.Missing}}\nc: {{.Missing.Deeper}}", VALUES)
    assert rendered.text == "a: <no value>\nb: <no value>\nc: <no value>"
    assert rendered.missing == (".Missing", ".Nested.Missing", ".Missing.Deeper")


def test_null_value_renders_no_value() -> None:
    assert text("n: {{.Nothing}}") == "n: <no value>"


def test_field_of_null_is_an_error() -> None:
    with pytest.raises(TemplateError, match=r"nil pointer evaluating interface \{\}\.X"):
        render("{{.Nothing.X}}", VALUES)


def test_field_of_a_string_is_an_error() -> None:
    with pytest.raises(TemplateError, match="can't evaluate field X in type string"):
        render("{{.ProjectName.X}}", VALUES)


def test_trim_markers() -> None:
    assert text("a:   {{- .Port -}}   \n  b") == "a:9090b"
    assert text("a: {{- .Port}} b") == "a:9090 b"


def test_comments_render_nothing() -> None:
    assert text("a{{/* a comment with {{ braces */}}b") == "ab"
    assert text("a \n{{- /* trimmed */ -}}\n b") == "ab"


@pytest.mark.parametrize(
    "template",
    [
        "{{if .Flag}}x{{end}}",
        '{{.Port | printf "%d"}}',
        "{{range .List}}{{.}}{{end}}",
        "{{.}}",
        "{{}}",
        '{{ printf "x" }}',
        "{{.Key-Name}}",
    ],
)
def test_unsupported_actions_are_refused(template: str) -> None:
    with pytest.raises(TemplateError, match="unsupported template action"):
        render(template, VALUES)


def test_errors_name_file_and_line() -> None:
    with pytest.raises(TemplateError, match=r"^04\.yaml:3: unsupported"):
        render("a\nb\nc: {{if .X}}\n", VALUES, source="04.yaml")


def test_unclosed_action() -> None:
    with pytest.raises(TemplateError, match="unclosed action"):
        render("a: {{.Port", VALUES)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1.5, "1.5"),
        (100.0, "100"),
        (123456.0, "123456"),
        (1234567.0, "1.234567e+06"),
        (1e6, "1e+06"),
        (1e10, "1e+10"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-2.5, "-2.5"),
        (0.0, "0"),
        (1e21, "1e+21"),
        (float("inf"), "+Inf"),
        (float("nan"), "NaN"),
    ],
)
def test_format_float_matches_go_percent_v(number: float, expected: str) -> None:
    assert format_float(number) == expected


def test_format_value_of_nested_nil() -> None:
    assert format_value([None, "x"]) == "[<nil> x]"
