"""Tiny Helm charts and profiles for seeding the emulator (tests, benchmarks)."""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any


def make_tgz(files: dict[str, str]) -> bytes:
    """A gzip-compressed tar of text files (path in the archive -> content)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def sample_chart(app: str = "collectd", *, service: bool = True) -> bytes:
    """A Helm chart for ``app``: a Deployment named by a template (so: the app name) and,
    with ``service``, a Service with the literal name ``<app>-svc``."""
    files = {
        f"{app}/Chart.yaml": f"apiVersion: v2\nname: {app}\nversion: 0.1.0\n",
        f"{app}/values.yaml": "replicas: 1\n",
        f"{app}/templates/deployment.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
            "  name: {{ .Release.Name }}\n  labels:\n    app: " + app + "\n"
            "spec:\n  replicas: {{ .Values.replicas }}\n"
        ),
    }
    if service:
        files[f"{app}/templates/service.yaml"] = (
            f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {app}-svc\n"
            "spec:\n  ports:\n  - port: 80\n"
        )
    return make_tgz(files)


def sample_profile() -> bytes:
    """A minimal EMCO app profile archive (manifest and empty override values)."""
    return make_tgz(
        {
            "profile/manifest.yaml": "---\nversion: v1\ntype:\n  values: override_values.yaml\n",
            "profile/override_values.yaml": "{}\n",
        }
    )


def multipart(metadata: dict[str, Any], content: bytes) -> dict[str, Any]:
    """httpx ``files=`` for EMCO's multipart uploads: a ``metadata`` field and a ``file``."""
    return {"metadata": (None, json.dumps(metadata)), "file": ("file", content)}
