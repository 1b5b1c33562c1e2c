"""Temporal connection settings (envconfig + the seed's TEMPORAL_SERVER) and connecting."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import temporalio.service
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.envconfig import ClientConfig
from temporalio.service import RPCError, RPCStatusCode

from emco_migrate.cli_help import Variable
from emco_migrate.errors import TemporalUnreachable, UserError
from emco_migrate.failures import DATA_CONVERTER

DEFAULT_PORT = 7233
DEFAULT_ADDRESS = f"localhost:{DEFAULT_PORT}"
DEFAULT_NAMESPACE = "default"
CONNECT_TIMEOUT_SECONDS = 10.0
CONFIG_FILE_VARIABLE = "TEMPORAL_CONFIG_FILE"
# The boolean variables envconfig reads. It ignores a value it cannot parse, and the mere
# presence of a TEMPORAL_TLS* variable turns TLS on, so `TEMPORAL_TLS=no` would mean TLS.
BOOLEAN_VARIABLES = ("TEMPORAL_TLS", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}  # envconfig's spellings
# What `TemporalSettings.load` reads (envconfig's variables, then the seed's), for --help.
ENVIRONMENT = (
    Variable.one("TEMPORAL_ADDRESS", "Temporal frontend host:port (default of --address)"),
    Variable.one("TEMPORAL_NAMESPACE", "Temporal namespace (default of --namespace; 'default')"),
    Variable.one("TEMPORAL_API_KEY", "API key (Temporal Cloud); turns TLS on"),
    Variable.one("TEMPORAL_TLS", "true/1 or false/0: connect over TLS or not"),
    Variable(
        ("TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH"),
        "mutual TLS client certificate and key files (or *_DATA: the PEM itself)",
    ),
    Variable.one(
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH", "CA of the server certificate (or *_DATA: the PEM)"
    ),
    Variable.one("TEMPORAL_TLS_SERVER_NAME", "name to verify in the server certificate"),
    Variable.one(
        "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "only false/0 (true is refused at start)"
    ),
    Variable(("TEMPORAL_CONFIG_FILE", "TEMPORAL_PROFILE"), "a Temporal TOML config file, profile"),
    Variable.one("TEMPORAL_GRPC_META_<NAME>", "gRPC header <name> sent with every call"),
    Variable.one(
        "TEMPORAL_SERVER", "the seed's host[:port], used when no address is set otherwise"
    ),
)

log = logging.getLogger(__name__)


def address_from_temporal_server(value: str) -> str:
    """Turn the seed's ``TEMPORAL_SERVER`` (a host, or host:port) into host:port.

    >>> address_from_temporal_server("temporal.example")
    'temporal.example:7233'
    >>> address_from_temporal_server("10.0.0.5:7234")
    '10.0.0.5:7234'
    >>> address_from_temporal_server("fd00::5")
    '[fd00::5]:7233'
    """
    value = value.strip().strip("\"'")
    if not value:
        raise UserError("TEMPORAL_SERVER is set but empty")
    if value.startswith("["):
        return value if "]:" in value else f"{value}:{DEFAULT_PORT}"
    if value.count(":") > 1:  # a bare IPv6 address
        return f"[{value}]:{DEFAULT_PORT}"
    if ":" in value:
        host, _, port = value.rpartition(":")
        if not port.isdigit() or not host:
            raise UserError(f"TEMPORAL_SERVER {value!r} is not host or host:port")
        return value
    return f"{value}:{DEFAULT_PORT}"


@dataclass(frozen=True)
class TemporalSettings:
    """Where and how to connect to Temporal."""

    address: str = DEFAULT_ADDRESS
    namespace: str = DEFAULT_NAMESPACE
    api_key: str | None = None
    tls: bool | temporalio.service.TLSConfig = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        *,
        address: str | None = None,
        namespace: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> TemporalSettings:
        """Settings from flags, then ``temporalio.envconfig``, then ``TEMPORAL_SERVER``.

        Precedence for the address: ``address`` argument, ``TEMPORAL_ADDRESS`` (or a
        Temporal config-file profile), ``TEMPORAL_SERVER``, ``localhost:7233``. Values
        envconfig would ignore or misread (a boolean that is not true/false/1/0, a named
        config file that is missing or not TOML) raise `UserError` first.
        """
        env = dict(os.environ if env is None else env)
        flags = {name: env_flag(env, name) for name in BOOLEAN_VARIABLES}
        if flags["TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"]:
            # envconfig reads it, but the Python SDK's TLS settings have no such switch.
            raise UserError(
                "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION=true is not supported: set "
                "TEMPORAL_TLS_SERVER_NAME to the name in the server's certificate instead"
            )
        config_file = check_config_file(env)
        try:
            config = ClientConfig.load_client_connect_config(override_env_vars=env)
        except FileNotFoundError as err:
            raise UserError(f"Temporal TLS file not found: {err.filename}") from err
        except Exception as err:  # envconfig reports bad TOML/env as various types
            where = "invalid Temporal client configuration"
            if config_file:
                where = f"{CONFIG_FILE_VARIABLE}={config_file}"
            raise UserError(f"{where}: {_config_error_line(err)}") from err
        resolved = address or config.get("target_host")
        if not resolved and env.get("TEMPORAL_SERVER"):
            resolved = address_from_temporal_server(env["TEMPORAL_SERVER"])
        extra: dict[str, Any] = {}
        if config.get("rpc_metadata"):
            extra["rpc_metadata"] = config["rpc_metadata"]
        return cls(
            address=resolved or DEFAULT_ADDRESS,
            namespace=namespace or config.get("namespace") or DEFAULT_NAMESPACE,
            api_key=config.get("api_key"),
            tls=config.get("tls", False),
            extra=extra,
        )

    def describe(self) -> str:
        """Where we connect, for messages (never includes secrets)."""
        return f"{self.address} (namespace {self.namespace})"


def env_flag(env: Mapping[str, str], name: str) -> bool | None:
    """The boolean variable ``name``: None when unset; only true/false/1/0 (any case)."""
    value = env.get(name)
    if value is None:
        return None
    try:
        return _BOOLEANS[value.lower()]
    except KeyError:
        raise UserError(f"{name}={value!r} is not a boolean: use true, false, 1 or 0") from None


def check_config_file(env: Mapping[str, str]) -> str | None:
    """The ``TEMPORAL_CONFIG_FILE`` path, once it is known to be a readable TOML file.

    envconfig silently ignores a file that does not exist; one that is named must exist.
    Unset or empty: envconfig's default file, which may be absent.
    """
    path = env.get(CONFIG_FILE_VARIABLE)
    if not path:
        return None
    where = f"{CONFIG_FILE_VARIABLE}={path}"
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise UserError(f"{where}: {(err.strerror or str(err)).lower()}") from err
    try:
        tomllib.loads(data.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise UserError(f"{where} is not valid TOML: {err}") from err
    return path


def _config_error_line(err: BaseException) -> str:
    """envconfig's error on one line.

    Its TOML errors are a location line, a source excerpt with a caret, and the problem: the
    bridge gives only that text, so the first and last lines are kept.
    """
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if not lines:
        return type(err).__name__
    return lines[0] if len(lines) == 1 else f"{lines[0]}: {lines[-1]}"


async def connect(
    settings: TemporalSettings, *, timeout: float = CONNECT_TIMEOUT_SECONDS, **kwargs: Any
) -> Client:
    """Connect to Temporal, or raise `TemporalUnreachable` with a one-line reason.

    Also checks that the namespace exists, so a typo fails here in one line rather than
    later (a worker's poll validation, a "workflow not found"); a ``lazy`` client, which
    connects on first use, is not checked.
    """
    kwargs.setdefault("data_converter", DATA_CONVERTER)
    client = await _connect(settings, timeout, **kwargs)
    if kwargs.get("lazy"):
        return client
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=settings.namespace),
            timeout=timedelta(seconds=timeout),
        )
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise UserError(
                f"namespace {settings.namespace!r} does not exist on Temporal at {settings.address}"
            ) from err
        # Anything else (e.g. an API key without describe rights) is left to later calls.
    return client


async def _connect(settings: TemporalSettings, timeout: float, **kwargs: Any) -> Client:
    try:
        return await asyncio.wait_for(
            Client.connect(
                settings.address,
                namespace=settings.namespace,
                api_key=settings.api_key,
                tls=settings.tls,
                **settings.extra,
                **kwargs,
            ),
            timeout,
        )
    except TimeoutError as err:
        raise TemporalUnreachable(
            f"cannot reach Temporal at {settings.describe()}: no answer within {timeout:g}s"
        ) from err
    except Exception as err:  # the bridge raises RuntimeError with a long transport message
        log.debug("connecting to Temporal at %s failed: %s", settings.address, err)
        reason = short_reason(err, tls=settings.tls is not False)
        raise TemporalUnreachable(
            f"cannot reach Temporal at {settings.describe()}: {reason}"
        ) from err


class ConnectFailure(StrEnum):
    """Why Temporal could not be reached, in the words of the guide (section 7.1)."""

    REFUSED = "connection refused"
    HOST_NOT_FOUND = "host name not found"
    TIMED_OUT = "timed out"
    RESET = "connection reset by the server"
    CLOSED = "connection closed by the server"
    NOT_GRPC = "not a gRPC server"
    TLS_NOT_TLS = "TLS handshake failed: the server does not speak TLS"
    TLS_CLOSED = "TLS handshake failed: the server closed the connection"
    TLS_UNTRUSTED = "TLS handshake failed: server certificate not trusted"
    TLS_WRONG_NAME = "TLS handshake failed: server certificate is not for this host name"
    TLS_EXPIRED = "TLS handshake failed: server certificate expired or not yet valid"
    TLS_REJECTED = "TLS handshake failed: rejected by the server (client certificate?)"
    TLS_NO_HTTP2 = "TLS handshake failed: the server does not offer HTTP/2"
    TLS_FAILED = "TLS handshake failed"
    UNAUTHENTICATED = "not authenticated (API key or client certificate refused)"
    PERMISSION_DENIED = "permission denied"
    TRANSPORT = "transport error (details with --log-level DEBUG)"


# Text the Rust bridge puts in a failed connect (tonic/hyper/rustls Debug output, which is
# all it gives), first match wins. Each was seen against a real listener (tests/
# test_temporal_connection_env.py): refused port, DNS, TLS against a plaintext server and
# back, self-signed and misnamed certificates, an HTTP/1 server, one that hangs up.
_KNOWN_REASONS: tuple[tuple[str, ConnectFailure], ...] = (
    ("Connection refused", ConnectFailure.REFUSED),
    ("ConnectionRefused", ConnectFailure.REFUSED),
    ("dns error", ConnectFailure.HOST_NOT_FOUND),
    ("failed to lookup address", ConnectFailure.HOST_NOT_FOUND),
    ("deadline has elapsed", ConnectFailure.TIMED_OUT),
    ("timed out", ConnectFailure.TIMED_OUT),
    ("TimedOut", ConnectFailure.TIMED_OUT),
    ("InvalidCertificate(NotValidForName", ConnectFailure.TLS_WRONG_NAME),
    ("InvalidCertificate(Expired", ConnectFailure.TLS_EXPIRED),
    ("InvalidCertificate(NotValidYet", ConnectFailure.TLS_EXPIRED),
    ("InvalidCertificate", ConnectFailure.TLS_UNTRUSTED),
    ("InvalidMessage", ConnectFailure.TLS_NOT_TLS),  # e.g. InvalidContentType: not TLS
    ("tls handshake eof", ConnectFailure.TLS_CLOSED),
    ("AlertReceived", ConnectFailure.TLS_REJECTED),
    ("H2NotNegotiated", ConnectFailure.TLS_NO_HTTP2),
    ("PeerIncompatible", ConnectFailure.TLS_FAILED),
    ("PeerMisbehaved", ConnectFailure.TLS_FAILED),
    ("code: Unauthenticated", ConnectFailure.UNAUTHENTICATED),
    ("code: PermissionDenied", ConnectFailure.PERMISSION_DENIED),
    ("h2 protocol error", ConnectFailure.NOT_GRPC),  # e.g. an HTTP/1 server's answer
    ("grpc-status header missing", ConnectFailure.NOT_GRPC),  # an HTTP server's 404...
    ("ConnectionReset", ConnectFailure.RESET),
    ("Connection reset", ConnectFailure.RESET),
    ("connection closed", ConnectFailure.CLOSED),
    ("BrokenPipe", ConnectFailure.CLOSED),
    ("UnexpectedEof", ConnectFailure.CLOSED),
)
_RPC_REASONS = {
    RPCStatusCode.UNAUTHENTICATED: ConnectFailure.UNAUTHENTICATED,
    RPCStatusCode.PERMISSION_DENIED: ConnectFailure.PERMISSION_DENIED,
}
# Markers of the bridge's Debug dumps, never shown as they are.
_TRANSPORT_DUMP = ("tonic::", "hyper::", "Status {", "transport error", "tcp connect error")
_OS_MESSAGE = re.compile(r'Os \{ code: \d+, kind: \w+, message: "([^"]+)" \}')
# A plaintext client that a TLS server hangs up on sees only a reset or a close.
_TLS_OFF_HINT = " (TLS is off; set TEMPORAL_TLS=true if the server expects TLS)"


def short_reason(err: BaseException, *, tls: bool | None = None) -> str:
    """The useful part of a Temporal transport error, on one line.

    ``tls`` says whether the connection used TLS (None: unknown), for a hint when a TLS
    server hangs up on a plaintext client.
    """
    if isinstance(err, RPCError) and err.status in _RPC_REASONS:
        return _RPC_REASONS[err.status]
    text = " ".join(str(err).split())
    for marker, reason in _KNOWN_REASONS:
        if marker in text:
            if tls is False and reason in (ConnectFailure.RESET, ConnectFailure.CLOSED):
                return reason + _TLS_OFF_HINT
            return reason
    if any(marker in text for marker in _TRANSPORT_DUMP):
        if found := _OS_MESSAGE.search(text):  # e.g. "Network is unreachable"
            return found.group(1).lower()
        return ConnectFailure.TRANSPORT
    return text[:300] or type(err).__name__
