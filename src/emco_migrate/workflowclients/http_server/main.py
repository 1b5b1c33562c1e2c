"""``emco-migrate http-server``: serve ``POST /invoke/{client}`` for EMCO's workflowmgr."""

from __future__ import annotations

import argparse
import asyncio
import asyncio.constants
import logging
import os
import ssl
from collections.abc import Mapping
from pathlib import Path

import uvicorn

from emco_migrate import cli_help
from emco_migrate.cli_help import HelpSections, Variable
from emco_migrate.emcomigrate.endpoints import (
    ALLOW_ENV,
    ALLOW_ENVIRONMENT,
    EmcoUrlPolicy,
    UrlRefused,
)
from emco_migrate.errors import UserError
from emco_migrate.serving import GracefulServer
from emco_migrate.task_queue import (
    TASK_QUEUE_ENVIRONMENT,
    add_task_queue_argument,
    task_queue_from,
)
from emco_migrate.temporal_connection import ENVIRONMENT as TEMPORAL_ENVIRONMENT
from emco_migrate.temporal_connection import connect
from emco_migrate.workflowclients.cli_options import add_temporal_arguments, temporal_settings
from emco_migrate.workflowclients.http_server.app import HttpServerSettings, create_app
from emco_migrate.workflowclients.http_server.execdir import DEFAULT_TIMEOUT_SECONDS
from emco_migrate.workflowclients.http_server.security import (
    bind_listeners,
    read_token_file,
    tls_files,
)

HELP = "serve POST /invoke/{client} for EMCO's workflowmgr"
DEFAULT_HOST = "0.0.0.0"  # all interfaces: it is a container's service port
DEFAULT_PORT = 9090
AUTH_TOKEN_FILE_VARIABLE = "EMCO_MIGRATE_AUTH_TOKEN_FILE"
ALLOW_EMCO_URLS_VARIABLE = ALLOW_ENV
# How long a TLS connection being closed waits for the client's close_notify (asyncio: 30 s).
# On SIGTERM uvicorn closes idle keep-alive connections, and a pooled client answers only when
# it next uses the connection: with one such client, a stop took 30 s (measured), the whole
# grace period of the pod. uvicorn has no setting for it; asyncio reads this default for each
# new connection, and this process runs no other asyncio TLS.
TLS_CLOSE_TIMEOUT_SECONDS = 1.0

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Listen address, exec-dir clients, who may call, and the Temporal connection."""
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"listen address ({DEFAULT_HOST})")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"listen port ({DEFAULT_PORT})"
    )
    parser.add_argument(
        "--exec-dir",
        type=Path,
        metavar="DIR",
        help="also serve DIR/<name> executables, run as '<name> -a <spec.json>'",
    )
    parser.add_argument(
        "--exec-timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help=f"kill an --exec-dir client after this long (default {DEFAULT_TIMEOUT_SECONDS:g})",
    )
    door = parser.add_argument_group("who may call (default: anyone who can reach the port)")
    door.add_argument(
        "--auth-token-file",
        type=Path,
        metavar="PATH",
        help="require 'Authorization: Bearer <token>' on POST /invoke, the token read from "
        f"PATH (default: {AUTH_TOKEN_FILE_VARIABLE}); EMCO's workflowmgr sends none, so "
        "it is for a proxy in front of this server or other callers",
    )
    door.add_argument(
        "--tls-cert-file", type=Path, metavar="PATH", help="serve HTTPS with this PEM certificate"
    )
    door.add_argument(
        "--tls-key-file", type=Path, metavar="PATH", help="the certificate's PEM private key"
    )
    door.add_argument(
        "--tls-client-ca-file",
        type=Path,
        metavar="PATH",
        help="require client certificates signed by this PEM CA (mutual TLS)",
    )
    door.add_argument(
        "--allow-emco-url",
        action="append",
        metavar="PATTERN",
        help="an emcoURL workflows may call; repeat for more (default: "
        f"{ALLOW_EMCO_URLS_VARIABLE}, comma-separated; none: any emcoURL)",
    )
    add_task_queue_argument(parser)
    add_temporal_arguments(parser)


def settings_from(
    args: argparse.Namespace, environ: Mapping[str, str] = os.environ
) -> HttpServerSettings:
    """Validated server settings from the flags (and, for unset ones, the environment)."""
    if args.exec_dir is not None and not args.exec_dir.is_dir():
        raise UserError(f"--exec-dir {args.exec_dir} is not a directory")
    if args.exec_timeout <= 0:
        raise UserError("--exec-timeout must be positive")
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port {args.port} is not a TCP port")
    token = None
    if args.auth_token_file is not None:
        token = read_token_file(args.auth_token_file, "--auth-token-file")
    elif environ.get(AUTH_TOKEN_FILE_VARIABLE):
        token = read_token_file(
            Path(environ[AUTH_TOKEN_FILE_VARIABLE]), f"{AUTH_TOKEN_FILE_VARIABLE}="
        )
    return HttpServerSettings(
        temporal=temporal_settings(args),
        task_queue=task_queue_from(args.task_queue, environ),
        exec_dir=args.exec_dir,
        exec_timeout=args.exec_timeout,
        auth_token=token,
        allowed_emco_urls=_allowed_emco_urls(args.allow_emco_url, environ),
        tls=tls_files(args.tls_cert_file, args.tls_key_file, args.tls_client_ca_file),
    )


def _allowed_emco_urls(flags: list[str] | None, environ: Mapping[str, str]) -> tuple[str, ...]:
    if flags is not None and any(not pattern.strip() for pattern in flags):
        raise UserError("--allow-emco-url must not be empty")
    try:
        policy = EmcoUrlPolicy.from_sources(flags, environ.get(ALLOW_ENV, ""))
    except UrlRefused as err:
        raise UserError(str(err)) from None
    return policy.patterns


async def serve(settings: HttpServerSettings, host: str, port: int) -> None:
    """Take the port, connect to Temporal (each failing fast with one line), serve until stopped."""
    listeners = bind_listeners(host, port)
    try:
        client = await connect(settings.temporal)
        app = create_app(settings, temporal_client=client)
        tls = settings.tls
        if tls:
            asyncio.constants.SSL_SHUTDOWN_TIMEOUT = TLS_CLOSE_TIMEOUT_SECONDS
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=True,
            ssl_certfile=tls.cert_file if tls else None,
            ssl_keyfile=tls.key_file if tls else None,
            ssl_ca_certs=tls.client_ca_file if tls else None,
            ssl_cert_reqs=tls.cert_reqs if tls else ssl.CERT_NONE,
        )
        server = GracefulServer(config)
        log.info(
            "listening on %s://%s:%d%s",
            "https" if tls else "http",
            f"[{host}]" if ":" in host else host,
            port,
            f" with {tls.describe()}" if tls else "",
        )
        await server.serve(sockets=listeners)
    finally:
        for sock in listeners:
            sock.close()
    if not server.started:
        raise UserError(f"the HTTP server could not start on {host}:{port} (see the log above)")


def help_sections(command: str) -> HelpSections:
    """What ``http-server --help`` ends with."""
    return HelpSections(
        environment=(
            *TEMPORAL_ENVIRONMENT,
            TASK_QUEUE_ENVIRONMENT,
            Variable.one(AUTH_TOKEN_FILE_VARIABLE, "default of --auth-token-file"),
            ALLOW_ENVIRONMENT,
        ),
        exit_codes={
            cli_help.OK: "stopped by SIGTERM or Ctrl-C",
            cli_help.FAILED: "a setting it cannot use (exec dir, token or TLS file), or the "
            "server could not start (one line)",
            cli_help.UNREACHABLE: "Temporal did not answer at start",
            cli_help.ADDRESS_IN_USE: "--port is in use (checked before Temporal is contacted)",
        },
        examples=(
            "emco-migrate http-server --port 9090 --exec-dir /opt/emco",
            "emco-migrate http-server --auth-token-file /run/secrets/token "
            "--allow-emco-url 'http://10.0.0.*:30415'",
        ),
    )


def run(args: argparse.Namespace) -> int:
    """Run the server until SIGINT/SIGTERM."""
    settings = settings_from(args)
    asyncio.run(serve(settings, args.host, args.port))
    return 0
