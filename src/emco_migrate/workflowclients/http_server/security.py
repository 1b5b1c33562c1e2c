"""Who may call the HTTP server: the bearer token, TLS files, and the listening sockets."""

from __future__ import annotations

import errno
import hmac
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from emco_migrate.errors import AddressInUse, UserError

# Requests queued by the kernel before uvicorn accepts them (uvicorn's own default).
LISTEN_BACKLOG = 2048


@dataclass(frozen=True)
class BearerToken:
    """The token POST /invoke requires; its text never appears in a repr, a log or an answer."""

    secret: bytes

    def __repr__(self) -> str:
        return "BearerToken(<hidden>)"

    def matches(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header value is ``Bearer <this token>``."""
        if authorization is None:
            return False
        scheme, _, presented = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        # Header values arrive decoded as latin-1; back to their bytes, compared in
        # constant time so the answer's timing says nothing about the token.
        return hmac.compare_digest(presented.strip().encode("latin-1"), self.secret)


def read_token_file(path: Path, flag: str) -> BearerToken:
    """The token in ``path`` (surrounding whitespace stripped); one-line `UserError` otherwise.

    ``flag`` names where the path came from, for the message: ``--auth-token-file`` or
    ``EMCO_MIGRATE_AUTH_TOKEN_FILE=``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{_named(flag, path)} is not UTF-8 text") from None
    except OSError as err:
        raise UserError(f"{_named(flag, path)} cannot be read: {err.strerror or err}") from None
    token = text.strip()
    if not token:
        raise UserError(f"{_named(flag, path)} is empty: it must hold the bearer token")
    # An HTTP header carries printable ASCII; a space or line break inside means the file
    # holds something else than one token (the message must not quote it).
    if not all("!" <= char <= "~" for char in token):
        raise UserError(
            f"{_named(flag, path)} must hold one token of printable ASCII characters "
            "without spaces or line breaks"
        )
    return BearerToken(token.encode("ascii"))


def _named(flag: str, path: Path) -> str:
    return f"{flag}{path}" if flag.endswith("=") else f"{flag} {path}"


@dataclass(frozen=True)
class TlsFiles:
    """The server's certificate and key, and the CA its clients' certificates must be from."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None

    @property
    def cert_reqs(self) -> ssl.VerifyMode:
        """``CERT_REQUIRED`` with a client CA (mutual TLS), else ``CERT_NONE``."""
        return ssl.CERT_REQUIRED if self.client_ca_file is not None else ssl.CERT_NONE

    def describe(self) -> str:
        """For the startup log: what a client must present."""
        if self.client_ca_file is None:
            return "TLS"
        return f"mutual TLS (client certificates from {self.client_ca_file})"


def tls_files(cert: Path | None, key: Path | None, client_ca: Path | None) -> TlsFiles | None:
    """Checked TLS settings from the three flags; None for plain HTTP."""
    if cert is None and key is None:
        if client_ca is not None:
            raise UserError("--tls-client-ca-file needs --tls-cert-file and --tls-key-file")
        return None
    if cert is None or key is None:
        raise UserError("--tls-cert-file and --tls-key-file go together: give both or neither")
    files = TlsFiles(cert, key, client_ca)
    check_tls_files(files)
    return files


def check_tls_files(files: TlsFiles) -> None:
    """Load the files the way the server will, so a bad one fails at start with one line."""
    for flag, path in (
        ("--tls-cert-file", files.cert_file),
        ("--tls-key-file", files.key_file),
        ("--tls-client-ca-file", files.client_ca_file),
    ):
        if path is not None:
            _check_readable(flag, path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        # A passphrase would be asked for on the terminal (uvicorn has no way to give it).
        context.load_cert_chain(files.cert_file, files.key_file, password=_no_passphrase)
    except _EncryptedKey:
        raise UserError(
            f"--tls-key-file {files.key_file} is encrypted: give an unencrypted key"
        ) from None
    except ssl.SSLError as err:
        raise UserError(
            f"--tls-cert-file {files.cert_file} and --tls-key-file {files.key_file} are not a "
            f"PEM certificate and its private key ({err.reason or err})"
        ) from None
    if files.client_ca_file is not None:
        try:
            context.load_verify_locations(cafile=files.client_ca_file)
        except ssl.SSLError as err:
            raise UserError(
                f"--tls-client-ca-file {files.client_ca_file} holds no PEM CA certificate "
                f"({err.reason or err})"
            ) from None


class _EncryptedKey(Exception):
    pass


def _no_passphrase() -> bytes:
    raise _EncryptedKey


def _check_readable(flag: str, path: Path) -> None:
    try:
        with path.open("rb"):
            pass
    except OSError as err:
        raise UserError(f"{flag} {path} cannot be read: {err.strerror or err}") from None


def bind_listeners(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for host:port, bound before anything else starts.

    A taken port is `AddressInUse` (exit 4) at once, instead of uvicorn's log line and
    exit 3 after the Temporal connection. Like asyncio's ``create_server``: one socket per
    address ``host`` resolves to, ``SO_REUSEADDR`` on, IPv6 sockets IPv6-only.
    """
    try:
        addresses = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as err:
        raise UserError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    listeners: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(addresses):
            sock = socket.socket(family, kind, proto)
            listeners.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
                sock.listen(LISTEN_BACKLOG)
            except OSError as err:
                if err.errno == errno.EADDRINUSE:
                    raise AddressInUse(host, port) from None
                raise UserError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    except BaseException:
        for sock in listeners:
            sock.close()
        raise
    return listeners
