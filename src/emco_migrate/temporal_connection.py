"""Temporal connection settings (envconfig + the seed's TEMPORAL_SERVER) and connecting."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import temporalio.service
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.envconfig import ClientConfig
from temporalio.service import RPCError, RPCStatusCode

from emco_migrate.errors import TemporalUnreachable, UserError
from emco_migrate.failures import DATA_CONVERTER

DEFAULT_PORT = 7233
DEFAULT_ADDRESS = f"localhost:{DEFAULT_PORT}"
DEFAULT_NAMESPACE = "default"
CONNECT_TIMEOUT_SECONDS = 10.0


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
        Temporal config-file profile), ``TEMPORAL_SERVER``, ``localhost:7233``.
        """
        env = dict(os.environ if env is None else env)
        try:
            config = ClientConfig.load_client_connect_config(override_env_vars=env)
        except FileNotFoundError as err:
            raise UserError(f"Temporal TLS file not found: {err.filename}") from err
        except Exception as err:  # envconfig reports bad TOML/env as various types
            raise UserError(f"invalid Temporal client configuration: {err}") from err
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
        raise TemporalUnreachable(
            f"cannot reach Temporal at {settings.describe()}: {short_reason(err)}"
        ) from err


def short_reason(err: BaseException) -> str:
    """The useful part of a Temporal transport error, on one line."""
    text = " ".join(str(err).split())
    for marker, reason in _KNOWN_REASONS:
        if marker in text:
            return reason
    return text[:300]


_KNOWN_REASONS = (
    ("Connection refused", "connection refused"),
    ("dns error", "host name not found"),
    ("failed to lookup address", "host name not found"),
    ("deadline has elapsed", "timed out"),
)
