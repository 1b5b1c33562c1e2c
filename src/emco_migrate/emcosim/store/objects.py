"""EMCO's resource documents, keyed by their REST path, with EMCO's DB-layer rules.

Like EMCO's MongoDB layer: insert is an upsert that requires the parent to exist
(`db Insert parent resource not found`), delete refuses a missing object or one that
still has children (`db Remove resource not found`, `db Remove parent child constraint`),
and lists come back in insertion order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import quote

from emco_migrate.emcosim.errors import ModuleError
from emco_migrate.emcosim.store.db import Tx
from emco_migrate.wire.structs import from_json, go_json

T = TypeVar("T")


@dataclass(frozen=True)
class Ref:
    """Where a document lives: a collection name and key(s) under a parent document."""

    kind: str
    names: tuple[str, ...]
    parent: Ref | None = None

    @property
    def key(self) -> str:
        """A unique string for the document (its REST path without /v2, segments quoted)."""
        own = "/".join([self.kind, *(quote(n, safe="") for n in self.names)])
        return f"{self.parent.key}/{own}" if self.parent else own

    @property
    def name(self) -> str:
        """The last key segment (the resource's own name)."""
        return self.names[-1]

    def child(self, kind: str, *names: str) -> Ref:
        """A document in collection ``kind`` under this one."""
        return Ref(kind, names, self)


def _document(cls: type[T], doc: str) -> T:
    """A stored document as EMCO's DB layer unmarshals it (unknown keys dropped)."""
    return from_json(cls, doc, keep_unknown=False)


def parent_key(parent: Ref | None) -> str:
    """The stored parent column for documents under ``parent`` ("" at top level)."""
    return parent.key if parent else ""


class ObjectStore:
    """Typed access to the `objects` table inside a transaction."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    def exists(self, ref: Ref | None) -> bool:
        """Whether the document exists (the missing parent of a top level is always there)."""
        if ref is None:
            return True
        row = self.tx.execute("SELECT 1 FROM objects WHERE key = ?", (ref.key,)).fetchone()
        return row is not None

    def get(self, ref: Ref, cls: type[T]) -> T | None:
        """The document decoded as ``cls``, or None."""
        row = self.tx.execute("SELECT doc FROM objects WHERE key = ?", (ref.key,)).fetchone()
        return None if row is None else _document(cls, row["doc"])

    def get_blob(self, ref: Ref) -> bytes | None:
        """The file stored with the document (chart, profile, kubeconfig), or None."""
        row = self.tx.execute("SELECT blob FROM objects WHERE key = ?", (ref.key,)).fetchone()
        return None if row is None or row["blob"] is None else bytes(row["blob"])

    def children(self, parent: Ref | None, kind: str, cls: type[T]) -> list[T]:
        """Every document of collection ``kind`` under ``parent``, oldest first."""
        rows = self.tx.execute(
            "SELECT doc FROM objects WHERE parent = ? AND kind = ? ORDER BY seq",
            (parent_key(parent), kind),
        ).fetchall()
        return [_document(cls, row["doc"]) for row in rows]

    def children_with_files(
        self, parent: Ref | None, kind: str, cls: type[T]
    ) -> list[tuple[T, bytes | None]]:
        """Like `children`, with each document's file."""
        rows = self.tx.execute(
            "SELECT doc, blob FROM objects WHERE parent = ? AND kind = ? ORDER BY seq",
            (parent_key(parent), kind),
        ).fetchall()
        return [
            (
                _document(cls, row["doc"]),
                None if row["blob"] is None else bytes(row["blob"]),
            )
            for row in rows
        ]

    def put(
        self,
        ref: Ref,
        value: object,
        blob: bytes | None = None,
        *,
        duplicate: Exception | None = None,
    ) -> bool:
        """Insert or replace; the parent must exist. Returns whether a document was replaced
        (it keeps its position). With ``duplicate``, an existing document is refused by
        raising it, before the parent check, as EMCO checks them."""
        existed = self.exists(ref)
        if existed and duplicate is not None:
            raise duplicate
        if not self.exists(ref.parent):
            raise ModuleError("db Insert parent resource not found")
        doc = go_json(value).decode()
        if existed:
            self.tx.execute(
                "UPDATE objects SET doc = ?, blob = ? WHERE key = ?", (doc, blob, ref.key)
            )
        else:
            seq = self.tx.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM objects").fetchone()[0]
            self.tx.execute(
                "INSERT INTO objects (key, parent, kind, seq, doc, blob) VALUES (?, ?, ?, ?, ?, ?)",
                (ref.key, parent_key(ref.parent), ref.kind, seq, doc, blob),
            )
        return existed

    def delete(self, ref: Ref) -> None:
        """Remove a document that exists and has no children."""
        if not self.exists(ref):
            raise ModuleError("db Remove resource not found")
        child = self.tx.execute("SELECT 1 FROM objects WHERE parent = ? LIMIT 1", (ref.key,))
        if child.fetchone() is not None:
            raise ModuleError("db Remove parent child constraint")
        self.tx.execute("DELETE FROM objects WHERE key = ?", (ref.key,))
