"""App contexts (what one instantiate/update placed where) and their resources on clusters.

Resource rows carry timestamps on their cluster's effective clock: when rsync's apply
completes (``applied_at``), when the cluster monitor reports Ready (``ready_at``) and when
a deletion completes (``deleted_at``). States are derived from these on every read. Rows a
re-rollout of their context replaces are kept in ``resource_history`` with the real time
they were dropped, so the past stays readable (the availability report).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from emco_migrate.emcosim.store.db import Tx
from emco_migrate.wire.structs import from_json, go, go_json

NEVER = 1e300  # a timestamp that is never reached (stopped work)


class Phase(StrEnum):
    """What rsync was last asked to do with a context."""

    INSTANTIATE = "instantiate"  # apply it (instantiate, update target, rollback target)
    UPDATED = "updated"  # replaced by another context: delete what the new one dropped
    TERMINATE = "terminate"  # delete everything


@dataclass(frozen=True)
class ResourceSpec:
    """A Kubernetes resource of an app's chart."""

    GO_NAME: ClassVar[str] = "ResourceSpec"

    group: str = field(default="", metadata=go("group"))
    version: str = field(default="", metadata=go("version"))
    kind: str = field(default="", metadata=go("kind"))
    name: str = field(default="", metadata=go("name"))


@dataclass(frozen=True)
class Placement:
    """One app on one cluster, with its resources."""

    GO_NAME: ClassVar[str] = "Placement"

    app: str = field(default="", metadata=go("app"))
    provider: str = field(default="", metadata=go("provider"))
    cluster: str = field(default="", metadata=go("cluster"))
    resources: list[ResourceSpec] | None = field(default=None, metadata=go("resources"))


@dataclass(frozen=True)
class AppContext:
    """A context of a DIG: the apps of the composite app and where they were placed."""

    GO_NAME: ClassVar[str] = "AppContext"

    id: str = field(default="", metadata=go("id"))
    owner: str = field(default="", metadata=go("owner"))
    project: str = field(default="", metadata=go("project"))
    composite_app: str = field(default="", metadata=go("compositeApp"))
    version: str = field(default="", metadata=go("compositeAppVersion"))
    dig: str = field(default="", metadata=go("deploymentIntentGroup"))
    apps: list[str] | None = field(default=None, metadata=go("apps"))
    placements: list[Placement] | None = field(default=None, metadata=go("placements"))
    phase: str = field(default=Phase.INSTANTIATE.value, metadata=go("phase"))
    phase_at: float = field(default=0.0, metadata=go("phaseAt"))
    stopped: bool = field(default=False, metadata=go("stopped"))


@dataclass(frozen=True)
class ResourceRow:
    """A resource of a context on a cluster, with its rollout timestamps."""

    context: str
    app: str
    provider: str
    cluster: str
    group: str
    version: str
    kind: str
    name: str
    applied_at: float
    ready_at: float
    deleted_at: float | None = None
    superseded: bool = False
    dropped_at: float | None = None  # real time a re-rollout replaced it (history rows only)

    @property
    def identity(self) -> tuple[str, str, str, str, str, str, str]:
        """What makes two rows the same Kubernetes object on the same cluster."""
        return (
            self.app,
            self.provider,
            self.cluster,
            self.group,
            self.version,
            self.kind,
            self.name,
        )


def _row(r: sqlite3.Row) -> ResourceRow:
    return ResourceRow(
        context=r["context"],
        app=r["app"],
        provider=r["provider"],
        cluster=r["cluster"],
        group=r["api_group"],
        version=r["version"],
        kind=r["kind"],
        name=r["name"],
        applied_at=r["applied_at"],
        ready_at=r["ready_at"],
        deleted_at=r["deleted_at"],
        superseded=bool(r["superseded"]),
    )


class ContextStore:
    """The `contexts` and `resources` tables."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    def get(self, context_id: str) -> AppContext | None:
        """A context by id."""
        row = self.tx.execute("SELECT doc FROM contexts WHERE id = ?", (context_id,)).fetchone()
        return None if row is None else from_json(AppContext, row["doc"])

    def put(self, context: AppContext) -> None:
        """Store (or replace) a context."""
        self.tx.execute(
            "INSERT INTO contexts (id, owner, doc) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            (context.id, context.owner, go_json(context).decode()),
        )

    def delete_owned(self, owner: str) -> None:
        """Forget every context (and its resources) of a deleted DIG."""
        ids = [
            r["id"] for r in self.tx.execute("SELECT id FROM contexts WHERE owner = ?", (owner,))
        ]
        for context_id in ids:
            self.tx.execute("DELETE FROM resources WHERE context = ?", (context_id,))
            self.tx.execute("DELETE FROM resource_history WHERE context = ?", (context_id,))
        self.tx.execute("DELETE FROM contexts WHERE owner = ?", (owner,))

    def owned(self, owner: str) -> list[str]:
        """The ids of a DIG's contexts, oldest first."""
        rows = self.tx.execute("SELECT id FROM contexts WHERE owner = ? ORDER BY rowid", (owner,))
        return [r["id"] for r in rows]

    def resources(self, context_id: str) -> list[ResourceRow]:
        """The context's resource rows in placement order."""
        rows = self.tx.execute(
            "SELECT * FROM resources WHERE context = ? ORDER BY rowid", (context_id,)
        ).fetchall()
        return [_row(r) for r in rows]

    def all_resources(self) -> list[ResourceRow]:
        """Every row of every context."""
        return [_row(r) for r in self.tx.execute("SELECT * FROM resources ORDER BY rowid")]

    def history(self, context_id: str) -> list[ResourceRow]:
        """The rows a re-rollout of the context replaced, oldest first (``dropped_at`` set)."""
        rows = self.tx.execute(
            "SELECT * FROM resource_history WHERE context = ? ORDER BY rowid", (context_id,)
        ).fetchall()
        return [dataclasses.replace(_row(r), dropped_at=r["dropped_at"]) for r in rows]

    def drop_resources(self, context_id: str, now: float) -> None:
        """Move a context's rows to the history (before it is rolled out again)."""
        self.tx.execute(
            "INSERT INTO resource_history (context, app, provider, cluster, api_group, version,"
            " kind, name, applied_at, ready_at, deleted_at, superseded, dropped_at)"
            " SELECT context, app, provider, cluster, api_group, version, kind, name,"
            " applied_at, ready_at, deleted_at, superseded, ? FROM resources WHERE context = ?",
            (now, context_id),
        )
        self.tx.execute("DELETE FROM resources WHERE context = ?", (context_id,))

    def add_resource(self, row: ResourceRow) -> None:
        """Insert a row."""
        self.tx.execute(
            "INSERT OR REPLACE INTO resources (context, app, provider, cluster, api_group, version,"
            " kind, name, applied_at, ready_at, deleted_at, superseded)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.context,
                row.app,
                row.provider,
                row.cluster,
                row.group,
                row.version,
                row.kind,
                row.name,
                row.applied_at,
                row.ready_at,
                row.deleted_at,
                int(row.superseded),
            ),
        )

    def set_times(self, row: ResourceRow) -> None:
        """Store a row's changed timestamps and flag."""
        self.tx.execute(
            "UPDATE resources SET applied_at = ?, ready_at = ?, deleted_at = ?, superseded = ?"
            " WHERE context = ? AND app = ? AND provider = ? AND cluster = ? AND kind = ?"
            " AND name = ?",
            (
                row.applied_at,
                row.ready_at,
                row.deleted_at,
                int(row.superseded),
                row.context,
                row.app,
                row.provider,
                row.cluster,
                row.kind,
                row.name,
            ),
        )
