"""Documents -> request bodies, with emcoctl's omit rules and yaml.v3 struct decoding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emco_migrate.emcoctl.documents import (
    DocumentError,
    load_values,
    parse_documents,
    read_resources,
)


def one(text: str, warnings: list[str] | None = None) -> bytes:
    sink = warnings if warnings is not None else []
    [resource] = parse_documents(text, warn=sink.append)
    return resource.body()


def test_minimal_body_keeps_an_empty_name() -> None:
    assert one("version: emco/v2\nresourceContext: {anchor: projects/p/x/approve}\n") == (
        b'{"metadata":{"name":""}}'
    )


def test_empty_metadata_fields_label_and_spec_are_omitted() -> None:
    body = one(
        "resourceContext: {anchor: projects}\n"
        "metadata: {name: p1, description: '', userData1: u1, userData2: ''}\n"
        "clusterLabel: ''\nspec: {}\n"
    )
    assert body == b'{"metadata":{"name":"p1","userData1":"u1"}}'


def test_full_body_order_is_metadata_label_spec() -> None:
    body = one(
        "resourceContext: {anchor: a}\n"
        "spec: {z: 1, a: {c: true, b: [x]}}\n"
        "clusterLabel: edge\n"
        "metadata: {userData2: u2, description: d, name: n}\n"
    )
    assert body == (
        b'{"metadata":{"name":"n","description":"d","userData2":"u2"},'
        b'"clusterLabel":"edge","spec":{"a":{"b":["x"],"c":true},"z":1}}'
    )


def test_metadata_strings_keep_their_text() -> None:
    # Go decodes metadata into string fields: the text as written, not a number or bool.
    body = json.loads(
        one("resourceContext: {anchor: a}\nmetadata: {name: 010, description: yes}\n")
    )
    assert body["metadata"] == {"name": "010", "description": "yes"}


def test_capitalised_keys_are_ignored_with_a_warning() -> None:
    warnings: list[str] = []
    body = one("resourceContext: {anchor: a}\nMetadata: {name: x}\nmetadata: {Name: y}\n", warnings)
    assert body == b'{"metadata":{"name":""}}'
    assert any("'Metadata' is ignored (did you mean 'metadata'?)" in w for w in warnings)
    assert any("'Name' is ignored (did you mean 'name'?)" in w for w in warnings)


def test_files_and_composite_app_version() -> None:
    [doc] = parse_documents(
        "resourceContext: {anchor: projects/p/composite-apps}\n"
        "metadata: {name: ca}\nspec: {CompositeAppVersion: v2}\nfiles: [a/x.json, b.txt]\n"
    )
    assert doc.files == ("a/x.json", "b.txt")
    assert doc.composite_app_version() == "v2"


def test_multiple_documents_in_order() -> None:
    docs = parse_documents(
        "resourceContext: {anchor: a}\n---\n# comment\nresourceContext: {anchor: b}\n"
    )
    assert [(d.index, d.anchor) for d in docs] == [(1, "a"), (2, "b")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("spec: [1, 2]\n", "spec must be a mapping"),
        ("metadata: {name: {a: 1}}\n", "name must be a string"),
        ("files: a.txt\n", "files must be a list"),
        ("- a\n", "the document must be a mapping"),
        ("spec: {v: .nan}\n", "document 1: spec.v: json: unsupported value: NaN"),
        ("spec: {m: {1: x}}\n", "not a string"),
        ("a: 1\na: 2\n", "already defined"),
    ],
)
def test_documents_emcoctl_refuses(text: str, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        parse_documents(text)


def test_read_resources_renders_the_first_file_with_values(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        "resourceContext: {anchor: 'projects/{{.P}}/x'}\nmetadata: {name: '{{.Missing}}'}\n"
    )
    values = tmp_path / "v.yaml"
    values.write_text("P: proj1\n---\nP: second-document-ignored\n")
    warnings: list[str] = []
    [doc] = read_resources(template, values, warn=warnings.append)
    assert doc.anchor == "projects/proj1/x"
    assert doc.metadata.name == "<no value>"
    assert warnings == ["t.yaml: v.yaml has no Missing; rendered as <no value>"]


def test_without_values_the_file_is_not_templated(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text("resourceContext: {anchor: 'projects/{{.P}}'}\n")
    [doc] = read_resources(template)
    assert doc.anchor == "projects/{{.P}}"


def test_bad_values_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n")
    with pytest.raises(DocumentError, match="is empty"):
        load_values(empty)
    with pytest.raises(DocumentError, match="cannot read values file"):
        load_values(tmp_path / "missing.yaml")


def test_unsupported_template_is_a_document_error(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text("a: {{if .X}}b{{end}}\n")
    values = tmp_path / "v.yaml"
    values.write_text("X: 1\n")
    with pytest.raises(DocumentError, match=r"t\.yaml:1: unsupported template action"):
        read_resources(template, values)
