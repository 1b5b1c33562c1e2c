"""The sample app and intents in ``samples/``: package the apps, write values and config files.

``samples/apps/<app>/helm/<app>/`` is a Helm chart and ``samples/apps/<app>/profile/`` its
EMCO profile (``manifest.yaml`` naming an override values file). `package_samples` turns each
into the ``.tgz`` EMCO expects: the chart archive holds ``<app>/Chart.yaml`` (EMCO looks for a
directory named after the app), the profile archive holds ``manifest.yaml`` at its root.
Archives are deterministic (sorted entries, fixed times and owners), so rebuilding gives the
same bytes.

`write_values_file` and `write_config_file` produce the ``-v`` values and ``--config`` files
for a stack on other ports, from ``samples/intents/values-local.yaml``.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import yaml

# src/emco_migrate/emcoctl/samples.py -> the repository's samples/ (source checkouts only).
DEFAULT_SAMPLES_DIR = Path(__file__).resolve().parents[3] / "samples"
BUILD_DIR_NAME = "build"
PROFILE_SUFFIX = "-profile"
PROFILE_MANIFEST = "manifest.yaml"
# Keys of values-local.yaml that hold paths (relative to samples/intents).
PATH_KEYS = ("KubeConfig1", "KubeConfig2", "AppChart", "AppProfile")

_FIXED_MTIME = 0


class SamplesError(ValueError):
    """The samples folder is not laid out as expected."""


def samples_dir(path: Path | None = None) -> Path:
    """``path`` or the repository's ``samples/``; raises `SamplesError` if it is missing."""
    folder = path or DEFAULT_SAMPLES_DIR
    if not (folder / "apps").is_dir() or not (folder / "intents").is_dir():
        raise SamplesError(f"{folder} has no apps/ and intents/ folders (a source checkout?)")
    return folder


def _archive(entries: Sequence[tuple[str, Path]], out: Path) -> Path:
    """Write a reproducible tar.gz of ``(name in archive, file or directory)`` entries."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, path in sorted(entries):
            info = tarfile.TarInfo(name)
            info.mtime = _FIXED_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if path.is_dir():
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                data = path.read_bytes()
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=_FIXED_MTIME) as gz:
        gz.write(raw.getvalue())
    out.parent.mkdir(parents=True, exist_ok=True)
    # Replace atomically: a demo and a test may package at the same time.
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(packed.getvalue())
    Path(tmp).replace(out)
    return out


def _tree(root: Path, prefix: str) -> list[tuple[str, Path]]:
    entries = [(prefix, root)] if prefix else []
    for path in sorted(root.rglob("*")):
        if any(part.startswith(".") or part == "__pycache__" for part in path.parts):
            continue
        relative = path.relative_to(root).as_posix()
        entries.append((f"{prefix}/{relative}" if prefix else relative, path))
    return entries


def package_samples(samples: Path | None = None, out_dir: Path | None = None) -> dict[str, Path]:
    """Build ``<app>.tgz`` and ``<app>-profile.tgz`` for each app in ``samples/apps``.

    Returns ``{"hello-edge": .../hello-edge.tgz, "hello-edge-profile": ...}``. ``out_dir``
    defaults to ``samples/apps/build`` (ignored by git), the folder values-local.yaml names.
    """
    apps_dir = samples_dir(samples) / "apps"
    out = out_dir or apps_dir / BUILD_DIR_NAME
    built: dict[str, Path] = {}
    for app_dir in sorted(p for p in apps_dir.iterdir() if p.is_dir()):
        if app_dir.name == BUILD_DIR_NAME or app_dir.name.startswith("."):
            continue
        app = app_dir.name
        chart = app_dir / "helm" / app
        profile = app_dir / "profile"
        if not (chart / "Chart.yaml").is_file():
            raise SamplesError(f"{app_dir}: expected the chart in helm/{app}/Chart.yaml")
        if not (profile / PROFILE_MANIFEST).is_file():
            raise SamplesError(f"{app_dir}: expected profile/{PROFILE_MANIFEST}")
        built[app] = _archive(_tree(chart, app), out / f"{app}.tgz")
        name = f"{app}{PROFILE_SUFFIX}"
        built[name] = _archive(_tree(profile, ""), out / f"{name}.tgz")
    if not built:
        raise SamplesError(f"{apps_dir} holds no apps")
    return built


def _scalar(value: str | int) -> str:
    # JSON strings are YAML double-quoted scalars, read the same by PyYAML and yaml.v3.
    return str(value) if isinstance(value, int) else json.dumps(value)


def write_values_file(
    dest: Path,
    overrides: Mapping[str, str | int | Path] | None = None,
    *,
    base: Path | None = None,
) -> Path:
    """Write a values file: ``base`` (default values-local.yaml) with ``overrides`` applied.

    Only keys of ``base`` may be overridden. Relative paths of the `PATH_KEYS` are made
    absolute (relative to ``base``'s folder), so emcoctl may run in any directory.
    """
    base = base or samples_dir() / "intents" / "values-local.yaml"
    loaded = yaml.safe_load(base.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise SamplesError(f"{base}: expected a mapping of keys to values")
    values: dict[str, str | int] = {}
    for key, value in loaded.items():
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise SamplesError(f"{base}: {key} must be a string or an integer")
        values[str(key)] = value
    for key, value in (overrides or {}).items():
        if key not in values:
            raise SamplesError(f"unknown values key {key!r}; {base.name} has {sorted(values)}")
        values[key] = str(value) if isinstance(value, Path) else value
    for key in PATH_KEYS:
        if key in values and not Path(str(values[key])).is_absolute():
            values[key] = str((base.parent / str(values[key])).resolve())
    lines = [f"# Written by emco_migrate.emcoctl.samples from {base.name}; keys explained there."]
    lines += [f"{key}: {_scalar(value)}" for key, value in values.items()]
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


def write_config_file(dest: Path, emco_url: str) -> Path:
    """Write an emcoctl config sending every service to ``emco_url`` (one ``ingress``)."""
    parts = urlsplit(emco_url)
    if parts.scheme != "http" or not parts.hostname or not parts.port:
        raise SamplesError(f"expected http://host:port for the EMCO emulator, got {emco_url!r}")
    text = (
        "# Written by emco_migrate.emcoctl.samples: one endpoint serves every EMCO service.\n"
        f"ingress:\n  host: {_scalar(parts.hostname)}\n  port: {parts.port}\n"
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m emco_migrate.emcoctl.samples [SAMPLES_DIR [OUT_DIR]]``: package the apps."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 2 or any(a.startswith("-") for a in args):
        print("usage: python -m emco_migrate.emcoctl.samples [SAMPLES_DIR [OUT_DIR]]")
        return 2
    try:
        built = package_samples(
            Path(args[0]) if args else None, Path(args[1]) if len(args) > 1 else None
        )
    except SamplesError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for name, path in built.items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
