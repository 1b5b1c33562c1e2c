"""``emco-migrate http-server``: serve ``POST /invoke/{client}`` for EMCO's workflowmgr."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import uvicorn

from emco_migrate.errors import UserError
from emco_migrate.serving import GracefulServer
from emco_migrate.temporal_connection import connect
from emco_migrate.workflowclients.cli_options import add_temporal_arguments, temporal_settings
from emco_migrate.workflowclients.http_server.app import HttpServerSettings, create_app
from emco_migrate.workflowclients.http_server.execdir import DEFAULT_TIMEOUT_SECONDS

HELP = "serve POST /invoke/{client} for EMCO's workflowmgr"
DEFAULT_HOST = "0.0.0.0"  # all interfaces: it is a container's service port
DEFAULT_PORT = 9090


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Listen address, exec-dir clients and the Temporal connection."""
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
    add_temporal_arguments(parser)


def settings_from(args: argparse.Namespace) -> HttpServerSettings:
    """Validated server settings from the flags."""
    if args.exec_dir is not None and not args.exec_dir.is_dir():
        raise UserError(f"--exec-dir {args.exec_dir} is not a directory")
    if args.exec_timeout <= 0:
        raise UserError("--exec-timeout must be positive")
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port {args.port} is not a TCP port")
    return HttpServerSettings(
        temporal=temporal_settings(args),
        exec_dir=args.exec_dir,
        exec_timeout=args.exec_timeout,
    )


async def serve(settings: HttpServerSettings, host: str, port: int) -> None:
    """Connect to Temporal (failing fast with one line), then serve until stopped."""
    client = await connect(settings.temporal)
    app = create_app(settings, temporal_client=client)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=True)
    server = GracefulServer(config)
    await server.serve()
    if not server.started:
        raise UserError(f"the HTTP server could not start on {host}:{port} (see the log above)")


def run(args: argparse.Namespace) -> int:
    """Run the server until SIGINT/SIGTERM."""
    settings = settings_from(args)
    asyncio.run(serve(settings, args.host, args.port))
    return 0
