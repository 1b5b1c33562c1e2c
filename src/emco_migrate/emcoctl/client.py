"""HTTP to EMCO the way emcoctl sends it: JSON or multipart bodies, routed by anchor.

Header details that matter to EMCO: a JSON body goes with ``Content-Type`` and ``Accept``
``application/json`` (resty copies the content type into Accept); a GET sends no ``Accept``
except ``application/json`` for single apps, profiles, clusters, resources and
customizations (EMCO answers 406 without one and 300 for ``*/*``); a multipart body has the
``metadata`` form field (the JSON body) first, then the file part ``file`` with the literal
filename ``filename``, or one ``files`` part per file named by its basename.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from emco_migrate.emcoctl.config import EmcoctlConfig
from emco_migrate.emcoctl.routing import service_for

JSON = "application/json"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


@dataclass(frozen=True)
class Exchange:
    """One request and the answer to it."""

    method: str
    url: str
    status_code: int
    text: str

    @property
    def ok(self) -> bool:
        """emcoctl's success test: any 2xx."""
        return 200 <= self.status_code <= 299


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart body."""

    field: str
    filename: str
    content: bytes

    @classmethod
    def read(cls, field: str, path: str, filename: str | None = None) -> Upload:
        """Read ``path`` (relative to the current directory, as emcoctl does)."""
        try:
            content = Path(path).read_bytes()
        except OSError as err:
            raise FileError(
                f"cannot read {path!r}: {err.strerror} (paths in file:/files: are relative "
                f"to the current directory, {Path.cwd()})"
            ) from None
        return cls(field, filename if filename is not None else Path(path).name, content)

    def content_type(self) -> str:
        """What Go's http.DetectContentType says for our kinds of files."""
        if self.content.startswith(b"\x1f\x8b\x08"):
            return "application/x-gzip"
        if b"\x00" not in self.content[:512]:
            try:
                self.content[:512].decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                return "text/plain; charset=utf-8"
        return "application/octet-stream"


class FileError(Exception):
    """A ``file:``/``files:`` path that cannot be read."""


def new_http_client(
    *,
    token: str | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """The one client for a run: timeouts set, no default ``Accept: */*``."""
    client = httpx.Client(timeout=timeout, transport=transport)
    del client.headers["Accept"]  # EMCO answers 300 to */* on single apps and clusters
    client.headers["User-Agent"] = "emco-migrate-emcoctl"
    if token:
        client.headers["Authorization"] = f"Bearer {token}"
    return client


class EmcoHttp:
    """Sends documents' requests to the service the configuration routes each anchor to."""

    def __init__(self, client: httpx.Client, config: EmcoctlConfig) -> None:
        self._client = client
        self._config = config

    def url(self, anchor: str) -> str:
        """``http://host:port/v2/<anchor>`` for the service that serves the anchor."""
        return f"{self._config.base_url(service_for(anchor))}/{anchor}"

    def send_json(self, method: str, anchor: str, body: bytes) -> Exchange:
        """POST or PUT a JSON body."""
        url = self.url(anchor)
        response = self._client.request(
            method, url, content=body, headers={"Content-Type": JSON, "Accept": JSON}
        )
        return _exchange(method, url, response)

    def send_multipart(
        self, method: str, anchor: str, body: bytes, uploads: list[Upload]
    ) -> Exchange:
        """POST or PUT a multipart body: field ``metadata`` then the file parts."""
        url = self.url(anchor)
        response = self._client.request(
            method,
            url,
            data={"metadata": body.decode("utf-8")},
            files=[(u.field, (u.filename, u.content, u.content_type())) for u in uploads],
        )
        return _exchange(method, url, response)

    def get(self, anchor: str, *, accept_json: bool) -> Exchange:
        """GET, with ``Accept: application/json`` only where emcoctl sends it."""
        url = self.url(anchor)
        headers = {"Accept": JSON} if accept_json else None
        return _exchange("GET", url, self._client.get(url, headers=headers))

    def delete(self, anchor: str) -> Exchange:
        """DELETE."""
        url = self.url(anchor)
        return _exchange("DELETE", url, self._client.delete(url))


def _exchange(method: str, url: str, response: httpx.Response) -> Exchange:
    return Exchange(method, url, response.status_code, response.text)
