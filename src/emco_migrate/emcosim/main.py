"""``emco-migrate emco-sim``: run the EMCO REST API emulator."""

from __future__ import annotations

import argparse
import logging
import socket

import uvicorn

from emco_migrate.emcosim.settings import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_READY_DELAY,
    EmulatorSettings,
    default_db_path,
)
from emco_migrate.errors import UserError
from emco_migrate.serving import GracefulServer

HELP = "run the local EMCO API emulator"

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``emco-sim``."""
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on ({DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on (default {DEFAULT_PORT}); every port serves every service",
    )
    parser.add_argument(
        "--db",
        default=None,
        help=f"SQLite state file shared by emulator processes (default {default_db_path()}); "
        "':memory:' keeps state in this process only",
    )
    parser.add_argument(
        "--ready-delay",
        type=float,
        default=DEFAULT_READY_DELAY,
        metavar="SECONDS",
        help="seconds until deployed resources report Ready (default %(default)s)",
    )
    parser.add_argument(
        "--access-log", action="store_true", help="log every request (uvicorn access log)"
    )


def settings_from(args: argparse.Namespace) -> EmulatorSettings:
    """Validated settings from the parsed flags."""
    if args.ready_delay < 0:
        raise UserError("--ready-delay must not be negative")
    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port} is not a TCP port")
    return EmulatorSettings(
        host=args.host,
        port=args.port,
        db=args.db or str(default_db_path()),
        ready_delay=args.ready_delay,
        access_log=args.access_log,
    )


def check_listen(host: str, port: int) -> None:
    """Fail early, in one line, when the address cannot be listened on."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as err:
        raise UserError(f"cannot listen on {host}:{port}: {err.strerror or err}") from err


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    from emco_migrate.emcosim.app import create_app

    settings = settings_from(args)
    check_listen(settings.host, settings.port)
    try:
        app = create_app(settings)
    except OSError as err:
        raise UserError(f"cannot open the state file {settings.db}: {err}") from err
    log.info(
        "EMCO emulator on http://%s:%d/v2 (state %s, ready delay %gs)",
        settings.host,
        settings.port,
        settings.db,
        settings.ready_delay,
    )
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        access_log=settings.access_log,
        log_config=None,
        lifespan="on",
    )
    server = GracefulServer(config)
    try:
        server.run()
    except SystemExit as err:  # uvicorn exits when it cannot start serving
        raise UserError(f"could not serve on {settings.host}:{settings.port}") from err
    return 0
