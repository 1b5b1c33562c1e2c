"""Helm charts: validate a tgz like EMCO does, and list the resources its templates declare.

Templates are scanned as text (they are Go templates, not YAML): each document's top-level
``kind`` and ``apiVersion`` and its ``metadata.name``; a templated name stands for the app.
"""

from __future__ import annotations

import io
import re
import tarfile
import zlib
from pathlib import PurePosixPath

from emco_migrate.emcosim.store.contexts import ResourceSpec

_DOC_SEPARATOR = re.compile(r"^---.*$", re.MULTILINE)
_KIND = re.compile(r"^kind:\s*['\"]?([A-Za-z0-9]+)['\"]?\s*(#.*)?$", re.MULTILINE)
_API_VERSION = re.compile(r"^apiVersion:\s*['\"]?([^\s'\"#]+)", re.MULTILINE)
_TOP_LEVEL = re.compile(r"^[^\s#]")

# Group/version for kinds whose apiVersion is templated or missing.
_DEFAULT_API = {
    "Deployment": ("apps", "v1"),
    "StatefulSet": ("apps", "v1"),
    "DaemonSet": ("apps", "v1"),
    "ReplicaSet": ("apps", "v1"),
    "Job": ("batch", "v1"),
    "CronJob": ("batch", "v1"),
    "Ingress": ("networking.k8s.io", "v1"),
}


class ChartError(ValueError):
    """The file is not a gzip-compressed tar archive EMCO would accept."""


def check_tgz(data: bytes) -> None:
    """EMCO's `IsTarGz`: valid gzip, at least one entry, only directories and files."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            members = archive.getmembers()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
        raise ChartError(str(err)) from None
    if not members:
        raise ChartError("Empty or non-existant Tar file found")
    for member in members:
        if not (member.isdir() or member.isfile()):
            raise ChartError(f"Unknown header in tar {member.name}")


def chart_resources(data: bytes, app: str) -> list[ResourceSpec]:
    """The resources declared by ``templates/*.yaml`` of a chart tgz, in file order."""
    found: dict[tuple[str, str], ResourceSpec] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in sorted(archive.getmembers(), key=lambda m: m.name):
            path = PurePosixPath(member.name)
            if not member.isfile() or path.suffix not in (".yaml", ".yml"):
                continue
            if len(path.parts) < 2 or path.parts[-2] != "templates":
                continue
            handle = archive.extractfile(member)
            if handle is None:
                continue
            text = handle.read().decode("utf-8", errors="replace")
            for document in _DOC_SEPARATOR.split(text):
                spec = _resource(document, app)
                if spec is not None:
                    found.setdefault((spec.kind, spec.name), spec)
    return list(found.values())


def _resource(document: str, app: str) -> ResourceSpec | None:
    kind_match = _KIND.search(document)
    if kind_match is None:
        return None
    kind = kind_match.group(1)
    group, version = _DEFAULT_API.get(kind, ("", "v1"))
    api_match = _API_VERSION.search(document)
    if api_match is not None and "{{" not in api_match.group(1):
        group, _, version = api_match.group(1).rpartition("/")
    name = _metadata_name(document)
    if not name or "{{" in name:
        name = app
    return ResourceSpec(group=group, version=version, kind=kind, name=name)


def _metadata_name(document: str) -> str | None:
    lines = document.splitlines()
    for index, line in enumerate(lines):
        if line.rstrip() != "metadata:":
            continue
        indent: int | None = None
        for child in lines[index + 1 :]:
            if not child.strip() or child.lstrip().startswith("#"):
                continue
            if _TOP_LEVEL.match(child):
                break
            depth = len(child) - len(child.lstrip())
            indent = depth if indent is None else indent
            stripped = child.strip()
            if depth == indent and stripped.startswith("name:"):
                return stripped[len("name:") :].strip().strip("'\"")
        return None
    return None
