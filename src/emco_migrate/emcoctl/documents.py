"""emcoctl resource documents: read, optionally templated, and turned into request bodies.

A file holds YAML documents separated by ``---``, each::

    version: emco/v2                  # not checked, as in emcoctl
    resourceContext: {anchor: <path under /v2>}
    metadata: {name, description, userData1, userData2}
    spec: {...}                       # any mapping
    clusterLabel: <label>             # optional
    file: <path>                      # optional: sent as multipart part `file`
    files: [<path>, ...]              # optional: sent as multipart parts `files`

Keys are matched exactly (yaml.v3 struct tags), so ``Metadata:`` is ignored, as emcoctl
ignores it; we warn about such keys. The body is what emcoctl's ``json.Marshal`` writes:
``{"metadata":{"name":...},"clusterLabel":...,"spec":{...}}`` with empty description/userData,
label and spec left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from emco_migrate.emcoctl import goyaml
from emco_migrate.emcoctl.template import TemplateError, render
from emco_migrate.wire import gojson

_TOP_KEYS = ("version", "resourceContext", "metadata", "spec", "file", "files", "clusterLabel")
_METADATA_KEYS = ("name", "description", "userData1", "userData2")

Warn = Callable[[str], None]


class DocumentError(ValueError):
    """A document or values file emcoctl would refuse before sending anything."""


@dataclass(frozen=True)
class Metadata:
    """The ``metadata`` every EMCO resource carries."""

    name: str = ""
    description: str = ""
    user_data1: str = ""
    user_data2: str = ""

    def encode(self) -> dict[str, str]:
        """Go's JSON: ``name`` always, the rest only when not empty (``omitempty``)."""
        out = {"name": self.name}
        for key, value in (
            ("description", self.description),
            ("userData1", self.user_data1),
            ("userData2", self.user_data2),
        ):
            if value:
                out[key] = value
        return out


@dataclass(frozen=True)
class Resource:
    """One document of an emcoctl file."""

    index: int  # 1-based position in the file
    anchor: str
    metadata: Metadata
    spec: dict[str, Any] | None = None
    cluster_label: str = ""
    file: str = ""
    files: tuple[str, ...] = ()

    def body_value(self) -> dict[str, Any]:
        """The request body as a JSON-ready value, keys in Go's order."""
        body: dict[str, Any] = {"metadata": self.metadata.encode()}
        if self.cluster_label:
            body["clusterLabel"] = self.cluster_label
        if self.spec:
            body["spec"] = goyaml.json_ready(self.spec, "spec")
        return body

    def body(self) -> bytes:
        """The JSON bytes emcoctl sends (compact, Go escaping, sorted spec keys)."""
        return gojson.dump_bytes(self.body_value())

    def composite_app_version(self) -> str:
        """``spec.compositeAppVersion`` (any letter case, as mapstructure matches it)."""
        for key, value in (self.spec or {}).items():
            if isinstance(key, str) and key.lower() == "compositeappversion":
                if not isinstance(value, str):
                    raise DocumentError(
                        f"document {self.index}: spec.compositeAppVersion must be a string"
                    )
                return value
        return ""

    def describe(self) -> str:
        """A short reference for messages."""
        return f"document {self.index} ({self.anchor or 'no anchor'})"


def _ignore(message: str) -> None:
    del message


def read_text(path: Path, what: str = "") -> str:
    """A file's text; `DocumentError` when it cannot be read or is not UTF-8 (as YAML must be)."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        raise DocumentError(f"cannot read {what}{path}: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise DocumentError(
            f"{what}{path} is not UTF-8 text: {err.reason} at byte {err.start}"
        ) from None


def load_values(path: Path) -> Any:
    """The first document of a values file, as yaml.v3 decodes it."""
    text = read_text(path, "values file ")
    try:
        nodes = goyaml.compose_all(text)
        if not nodes:
            raise DocumentError(f"values file {path} is empty")
        return goyaml.to_value(nodes[0], goyaml.Decoder())
    except goyaml.GoYamlError as err:
        raise DocumentError(f"values file {path}: {err}") from None


def render_file(path: Path, values_path: Path | None, *, warn: Warn = _ignore) -> str:
    """The file's text, rendered with the values file when one is given."""
    text = read_text(path)
    if values_path is None:
        return text
    values = load_values(values_path)
    try:
        rendered = render(text, values, source=path.name)
    except TemplateError as err:
        raise DocumentError(str(err)) from None
    for chain in rendered.missing:
        warn(f"{path.name}: {values_path.name} has no {chain[1:]}; rendered as <no value>")
    return rendered.text


def parse_documents(text: str, *, source: str = "input", warn: Warn = _ignore) -> list[Resource]:
    """Decode every document of a YAML stream into resources; raises `DocumentError`."""
    try:
        nodes = goyaml.compose_all(text)
        return [_resource(node, i, source, warn) for i, node in enumerate(nodes, start=1)]
    except goyaml.GoYamlError as err:
        raise DocumentError(f"{source}: {err}") from None


def read_resources(
    path: Path, values_path: Path | None = None, *, warn: Warn = _ignore
) -> list[Resource]:
    """Read (and render) an emcoctl file into its resources."""
    return parse_documents(render_file(path, values_path, warn=warn), source=path.name, warn=warn)


# --------------------------------------------------------------------------- decoding


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and goyaml.scalar_value(node) is None


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _fields(
    node: Node | None,
    what: str,
    known: tuple[str, ...],
    warn: Warn,
    decoder: goyaml.Decoder,
) -> dict[str, Node]:
    """A mapping decoded into a Go struct: exact keys only, unknown keys ignored."""
    if node is None or _is_null(node):
        return {}
    if not isinstance(node, MappingNode):
        raise goyaml.GoYamlError(f"line {_line(node)}: {what} must be a mapping")
    out: dict[str, Node] = {}
    for key, value in goyaml.mapping_items(node, decoder):
        name = goyaml.scalar_text(key, f"a key of {what}")
        if name in known:
            out[name] = value
            continue
        close = next((k for k in known if k.lower() == name.strip().lower()), None)
        hint = f" (did you mean {close!r}?)" if close else ""
        warn(f"line {_line(key)}: {what} key {name!r} is ignored{hint}")
    return out


def _text(fields: dict[str, Node], key: str) -> str:
    return goyaml.scalar_text(fields[key], key) if key in fields else ""


def _spec(node: Node | None, decoder: goyaml.Decoder) -> dict[str, Any] | None:
    """``spec`` is a Go ``map[string]interface{}``: its own keys are kept as written."""
    if node is None or _is_null(node):
        return None
    if not isinstance(node, MappingNode):
        raise goyaml.GoYamlError(f"line {_line(node)}: spec must be a mapping")
    return {
        goyaml.scalar_text(k, "a key of spec"): goyaml.to_value(v, decoder)
        for k, v in goyaml.mapping_items(node, decoder)
    }


def _files(node: Node | None) -> tuple[str, ...]:
    if node is None or _is_null(node):
        return ()
    if not isinstance(node, SequenceNode):
        raise goyaml.GoYamlError(f"line {_line(node)}: files must be a list of paths")
    return tuple(goyaml.scalar_text(n, "files") for n in node.value)


def _resource(node: Node, index: int, source: str, warn: Warn) -> Resource:
    def warn_here(message: str) -> None:
        warn(f"{source}: document {index}: {message}")

    decoder = goyaml.Decoder()  # one alias budget for the whole document, as in yaml.v3
    top = _fields(node, "the document", _TOP_KEYS, warn_here, decoder)
    context = _fields(
        top.get("resourceContext"), "resourceContext", ("anchor",), warn_here, decoder
    )
    meta = _fields(top.get("metadata"), "metadata", _METADATA_KEYS, warn_here, decoder)
    resource = Resource(
        index=index,
        anchor=_text(context, "anchor"),
        metadata=Metadata(
            name=_text(meta, "name"),
            description=_text(meta, "description"),
            user_data1=_text(meta, "userData1"),
            user_data2=_text(meta, "userData2"),
        ),
        spec=_spec(top.get("spec"), decoder),
        cluster_label=_text(top, "clusterLabel"),
        file=_text(top, "file"),
        files=_files(top.get("files")),
    )
    try:
        resource.body()  # emcoctl marshals every body before it sends anything
    except goyaml.GoYamlError as err:
        raise goyaml.GoYamlError(f"document {index}: {err}") from None
    return resource
