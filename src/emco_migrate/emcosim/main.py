"""``emco-migrate emco-sim``: run the EMCO REST API emulator."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sqlite3
from pathlib import Path

import uvicorn

from emco_migrate import cli_help
from emco_migrate.cli_help import HelpSections, Variable
from emco_migrate.emcosim.settings import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_READY_DELAY,
    EmulatorSettings,
    default_db_path,
)
from emco_migrate.emcosim.store import Database
from emco_migrate.errors import UserError, os_reason, why_not_created
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


def help_sections(command: str) -> HelpSections:
    """What ``emco-sim --help`` ends with."""
    return HelpSections(
        environment=(Variable.one("XDG_STATE_HOME", "where the default --db lives (Linux)"),),
        exit_codes={
            cli_help.OK: "stopped by SIGTERM or Ctrl-C",
            cli_help.FAILED: "a --db it cannot use, or an address it cannot listen on (one "
            "in use included)",
        },
        examples=(
            "emco-migrate emco-sim --port 9015",
            "emco-migrate emco-sim --db :memory: --ready-delay 0",
        ),
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


def open_state(db: str) -> Database:
    """The emulator's state file, or a `UserError` naming ``--db`` and what is wrong with it."""
    if db != ":memory:":
        path = Path(db)
        if path.is_dir():
            raise UserError(f"--db {db} is a directory")
        if path.exists() and not path.is_file():
            raise UserError(f"--db {db} is not a regular file")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UserError(
                f"--db {db}: cannot create its directory: {why_not_created(path.parent, err)}"
            ) from err
    try:
        return Database(db)
    except sqlite3.Error as err:
        raise UserError(f"--db {db} {_sqlite_problem(Path(db), err)}") from err
    except OSError as err:
        raise UserError(f"--db {db} cannot be opened: {os_reason(err)}") from err


def _sqlite_problem(path: Path, err: sqlite3.Error) -> str:
    """What SQLite's error means for the file, by its (primary) result code."""
    code = err.sqlite_errorcode & 0xFF
    if code == sqlite3.SQLITE_NOTADB:
        return "is not an SQLite database"
    if code == sqlite3.SQLITE_CORRUPT:
        return "is a corrupt SQLite database"
    if code == sqlite3.SQLITE_READONLY:
        return "is read-only: the file and its directory must be writable"
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return "is locked by another process"
    if code == sqlite3.SQLITE_CANTOPEN:
        writable = path if path.exists() else path.parent
        if not os.access(writable, os.R_OK | os.W_OK):
            return f"cannot be opened: permission denied ({writable})"
        return "cannot be opened or created"
    return f"cannot be used: {err}"


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    settings = settings_from(args)
    check_listen(settings.host, settings.port)
    database = open_state(settings.db)
    # Imported once the cheap checks passed: FastAPI and every route take a while to load.
    from emco_migrate.emcosim.app import create_app

    app = create_app(settings, db=database)
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
