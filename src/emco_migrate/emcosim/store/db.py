"""SQLite access: WAL and a busy timeout so several emulator processes share one file."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 15_000

# The schema of the first release (user_version 0); later changes are in _MIGRATIONS.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY,
    parent TEXT NOT NULL,
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL,
    doc TEXT NOT NULL,
    blob BLOB
);
CREATE INDEX IF NOT EXISTS objects_by_parent ON objects (parent, kind, seq);
CREATE TABLE IF NOT EXISTS state_logs (
    owner TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contexts (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contexts_by_owner ON contexts (owner);
CREATE TABLE IF NOT EXISTS resources (
    context TEXT NOT NULL,
    app TEXT NOT NULL,
    provider TEXT NOT NULL,
    cluster TEXT NOT NULL,
    api_group TEXT NOT NULL,
    version TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    applied_at REAL NOT NULL,
    ready_at REAL NOT NULL,
    deleted_at REAL,
    superseded INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (context, app, provider, cluster, kind, name)
);
CREATE INDEX IF NOT EXISTS resources_by_cluster ON resources (provider, cluster);
CREATE TABLE IF NOT EXISTS cluster_settings (
    provider TEXT NOT NULL,
    cluster TEXT NOT NULL,
    reachable INTEGER NOT NULL DEFAULT 1,
    ready_delay REAL,
    never_ready INTEGER NOT NULL DEFAULT 0,
    paused_total REAL NOT NULL DEFAULT 0,
    unreachable_since REAL,
    PRIMARY KEY (provider, cluster)
);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    method TEXT,
    path_regex TEXT NOT NULL,
    status INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    delay REAL NOT NULL
);
"""

# Schema changes after the first release, applied in order to files of older versions (a file's
# `PRAGMA user_version` counts the ones it has). Never edit a released step; append a new one.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        # Hold faults have no status and rate faults may be unlimited: SQLite cannot relax
        # NOT NULL in place, so the table is rebuilt (keeping its ids and AUTOINCREMENT counter).
        """CREATE TABLE faults_new (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            method TEXT,
            path_regex TEXT NOT NULL,
            status INTEGER,
            remaining INTEGER,
            delay REAL NOT NULL DEFAULT 0,
            hold REAL,
            rate REAL NOT NULL DEFAULT 1.0,
            seed INTEGER,
            hits INTEGER NOT NULL DEFAULT 0
        )""",
        "INSERT INTO faults_new (id, method, path_regex, status, remaining, delay)"
        " SELECT id, method, path_regex, status, remaining, delay FROM faults",
        "DELETE FROM sqlite_sequence WHERE name = 'faults_new'",
        "UPDATE sqlite_sequence SET name = 'faults_new' WHERE name = 'faults'",
        "DROP TABLE faults",
        "ALTER TABLE faults_new RENAME TO faults",
        """CREATE TABLE requests (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            arrived_at REAL NOT NULL,
            applied_at REAL,
            status INTEGER,
            fault_id INTEGER
        )""",
    ),
    (
        # The availability report (`deploy/availability.py`) needs the past: resource rows a
        # re-rollout replaced (kept with when they were dropped) and every change of a
        # cluster's reachability or never-ready flag. Clusters changed before this step get
        # one entry with their current settings.
        """CREATE TABLE resource_history (
            context TEXT NOT NULL,
            app TEXT NOT NULL,
            provider TEXT NOT NULL,
            cluster TEXT NOT NULL,
            api_group TEXT NOT NULL,
            version TEXT NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            applied_at REAL NOT NULL,
            ready_at REAL NOT NULL,
            deleted_at REAL,
            superseded INTEGER NOT NULL DEFAULT 0,
            dropped_at REAL NOT NULL
        )""",
        "CREATE INDEX resource_history_by_context ON resource_history (context)",
        """CREATE TABLE cluster_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            provider TEXT NOT NULL,
            cluster TEXT NOT NULL,
            at REAL NOT NULL,
            reachable INTEGER NOT NULL,
            never_ready INTEGER NOT NULL,
            paused_total REAL NOT NULL
        )""",
        "CREATE INDEX cluster_log_by_cluster ON cluster_log (provider, cluster, id)",
        "INSERT INTO cluster_log (provider, cluster, at, reachable, never_ready, paused_total)"
        " SELECT provider, cluster, COALESCE(unreachable_since, 0), reachable, never_ready,"
        " paused_total FROM cluster_settings",
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)

Tx = sqlite3.Connection


class Database:
    """One connection per process; transactions are serialized by a lock and by SQLite."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
        with self._lock:
            self._conn.executescript(_SCHEMA)  # idempotent; safe with concurrent processes
        self._migrate()
        log.info("emulator state in %s", self.path)

    def _migrate(self) -> None:
        """Bring a file of an older version up to `SCHEMA_VERSION`, in one transaction.

        The write lock makes processes opening the same file at once take turns; the second
        finds the file current.
        """
        with self.write() as tx:
            version = int(tx.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                log.warning(
                    "state file %s is from a newer emulator (schema %d)", self.path, version
                )
                return
            for step in _MIGRATIONS[version:]:
                for statement in step:
                    tx.execute(statement)
            if version < SCHEMA_VERSION:
                tx.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                log.info("state file %s: schema %d -> %d", self.path, version, SCHEMA_VERSION)

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A transaction holding SQLite's write lock from the start (BEGIN IMMEDIATE)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read transaction: one consistent snapshot of every table."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
