"""The task queue a deployment's workers poll and its clients start workflows on.

The contract name is `MIGRATION_TASK_Q` (`emcomigrate.names.TASK_QUEUE`), and it stays the
default. A deployment (or a test) may use another queue: the worker polls it and the
clients (``http-server``, ``start``, ``evacuate``) start on it, all set by ``--task-queue``
or ``EMCO_MIGRATE_TASK_QUEUE``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from emco_migrate.cli_help import Variable
from emco_migrate.emcomigrate.names import TASK_QUEUE
from emco_migrate.errors import UserError

TASK_QUEUE_VARIABLE = "EMCO_MIGRATE_TASK_QUEUE"
TASK_QUEUE_ENVIRONMENT = Variable.one(
    TASK_QUEUE_VARIABLE, f"default of --task-queue (else {TASK_QUEUE})"
)
# Temporal's own limit is larger; a name this long is a mistake, and it shows in every log line.
MAX_TASK_QUEUE_CHARS = 255


def check_task_queue(value: str, source: str = "--task-queue") -> str:
    """``value`` when it can name a task queue (non-empty, printable, at most 255
    characters); else `UserError` naming ``source`` (the flag or the variable)."""
    if not value:
        raise UserError(f"{source} must not be empty (default: {TASK_QUEUE})")
    if len(value) > MAX_TASK_QUEUE_CHARS:
        raise UserError(
            f"{source} is {len(value)} characters long (at most {MAX_TASK_QUEUE_CHARS})"
        )
    if not value.isprintable():
        shown = value if len(value) <= 60 else value[:60] + "..."
        raise UserError(f"{source} {shown!r} is not printable (it has control characters)")
    return value


def add_task_queue_argument(parser: argparse.ArgumentParser) -> None:
    """``--task-queue NAME`` (default: ``EMCO_MIGRATE_TASK_QUEUE``, else MIGRATION_TASK_Q)."""
    parser.add_argument(
        "--task-queue",
        metavar="NAME",
        help=f"the Temporal task queue the emco-migrate workers poll (default: "
        f"{TASK_QUEUE_VARIABLE} or {TASK_QUEUE})",
    )


def task_queue_from(flag: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The configured task queue: ``flag``, else the environment, else MIGRATION_TASK_Q;
    raises `UserError` for a value that cannot name one."""
    if flag is not None:
        return check_task_queue(flag, "--task-queue")
    if TASK_QUEUE_VARIABLE in environ:
        return check_task_queue(environ[TASK_QUEUE_VARIABLE], TASK_QUEUE_VARIABLE)
    return TASK_QUEUE
