"""EMCO base URLs: how `emcoURL`, `clmURL` and `dcmURL` are read, and which of them the
operator allows (``--allow-emco-url``).

A base URL is ``http(s)://host[:port][/path-prefix]``: no user info, query or fragment, so
a request URL built from it (`request_url`) always goes to that host and under that path;
``http://host/secret?`` can never turn ``/v2/projects/...`` into a query string.

An allowlist pattern has the same shape and is matched part by part: the scheme exactly;
the host label by label, ``*`` standing for one whole label or IP octet (``10.0.0.*``
allows ``10.0.0.7``, never ``10.0.0.7.example.com``); the port exactly, ``*`` for any
(omitted: the scheme's default port); the path as a prefix ending at a ``/``
(omitted: any path).
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

import httpx

from emco_migrate.cli_help import Variable

ALLOW_ENV = "EMCO_MIGRATE_ALLOW_EMCO_URLS"
ALLOW_ENVIRONMENT = Variable.one(
    ALLOW_ENV, "EMCO base URL patterns, comma-separated, when no --allow-emco-url is given"
)
MAX_URL_CHARS = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}


class UrlRefused(ValueError):
    """A URL that is not a usable base URL, or one the allowlist does not allow."""


def _split(text: str) -> SplitResult:
    if len(text) > MAX_URL_CHARS:
        raise UrlRefused(f"is {len(text)} characters long (at most {MAX_URL_CHARS})")
    if not text.isascii() or not text.isprintable() or any(c.isspace() for c in text):
        raise UrlRefused(f"{_short(text)} holds spaces, control or non-ASCII characters")
    parts = urlsplit(text)
    if parts.scheme not in DEFAULT_PORTS or not parts.netloc:
        raise UrlRefused(f"must be an http(s) URL like http://host:port, got {_short(text)}")
    if "@" in parts.netloc:
        raise UrlRefused(f"{_short(text)} must not carry user info (user:password@)")
    if "?" in text:
        raise UrlRefused(f"{_short(text)} must not have a query ('?...')")
    if "#" in text:
        raise UrlRefused(f"{_short(text)} must not have a fragment ('#...')")
    if not parts.hostname:
        raise UrlRefused(f"{_short(text)} names no host")
    return parts


def base_url(text: str) -> str:
    """``text`` checked as a base URL and normalised (no trailing ``/``); raises
    `UrlRefused` saying what is wrong."""
    parts = _split(text.strip())
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise UrlRefused(f"{_short(text)} has an invalid port") from None
    return text.strip().rstrip("/")


def request_url(base: str, path: str) -> httpx.URL:
    """The URL of ``path`` (already percent-quoted, starting with ``/``) under ``base``,
    built as a URL: the base's scheme, host and port, its path prefix, then ``path``."""
    url = httpx.URL(base)
    prefix = url.raw_path.rstrip(b"/")
    return url.copy_with(raw_path=prefix + path.encode("ascii"))


def _port(parts: SplitResult) -> int:
    return parts.port or DEFAULT_PORTS[parts.scheme]


@dataclass(frozen=True)
class _Pattern:
    text: str
    scheme: str
    host: tuple[str, ...]
    port: int | None  # None: any port
    path: str | None  # None: any path

    @classmethod
    def parse(cls, text: str) -> _Pattern:
        raw = text.strip()
        scheme, sep, rest = raw.partition("://")
        netloc, slash, path = rest.partition("/")
        any_port = netloc.endswith(":*")
        if any_port:
            raw_url = f"{scheme}{sep}{netloc[:-2]}{slash}{path}"
        parts = _split(raw_url if any_port else raw)
        try:
            port = None if any_port else _port(parts)
        except ValueError:
            raise UrlRefused(f"{_short(text)} has an invalid port") from None
        assert parts.hostname is not None
        path = parts.path.rstrip("/")
        return cls(
            text=raw,
            scheme=parts.scheme,
            host=tuple(parts.hostname.split(".")),
            port=port,
            path=path or None,
        )

    def allows(self, parts: SplitResult) -> bool:
        host = tuple((parts.hostname or "").split("."))
        if parts.scheme != self.scheme or len(host) != len(self.host):
            return False
        if not all(fnmatch.fnmatchcase(h, p) for h, p in zip(host, self.host, strict=True)):
            return False
        if self.port is not None and _port(parts) != self.port:
            return False
        if self.path is None:
            return True
        path = parts.path.rstrip("/")
        return path == self.path or path.startswith(self.path + "/")


@dataclass(frozen=True)
class EmcoUrlPolicy:
    """Which EMCO base URLs workflows may call; no patterns: every URL."""

    patterns: tuple[str, ...] = ()
    # Parsed once here, not on every check (a check comes with every activity attempt).
    _parsed: tuple[_Pattern, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        parsed = []
        for pattern in self.patterns:
            try:
                parsed.append(_Pattern.parse(pattern))
            except UrlRefused as err:
                raise UrlRefused(f"--allow-emco-url {pattern!r}: {err}") from None
        object.__setattr__(self, "_parsed", tuple(parsed))

    @classmethod
    def from_sources(cls, flags: Iterable[str] | None, env: str | None = None) -> EmcoUrlPolicy:
        """Patterns from repeated ``--allow-emco-url`` flags, else from the comma-separated
        `ALLOW_ENV` variable (``env`` stands in for the environment in tests)."""
        given = [f for f in flags or () if f.strip()]
        if not given:
            value = os.environ.get(ALLOW_ENV, "") if env is None else env
            given = [p for p in value.split(",") if p.strip()]
        return cls(tuple(p.strip() for p in given))

    @property
    def allows_all(self) -> bool:
        """True when no pattern restricts the URLs."""
        return not self.patterns

    def check(self, url: str) -> None:
        """Raise `UrlRefused` unless ``url`` (a checked base URL) matches a pattern."""
        if self.allows_all:
            return
        parts = urlsplit(url)
        if any(pattern.allows(parts) for pattern in self._parsed):
            return
        raise UrlRefused(
            f"{_short(url)} is not allowed on this deployment (allowed: "
            f"{', '.join(self.patterns)}; see --allow-emco-url)"
        )


def _short(text: str) -> str:
    """``text`` for an error message: user info masked (it may hold a password), cut short."""
    masked = re.sub(r"//[^/?#]*@", "//***@", text)
    return repr(masked if len(masked) <= 80 else masked[:80] + "...")
