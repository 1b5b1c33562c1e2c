"""Workflow clients the HTTP server can run in-process, found through Python entry points.

A workflow client turns a parsed `TemporalSpec` into a started workflow. Third-party
packages add clients by declaring an entry point in the ``emco_migrate.workflowclients``
group whose object is a class (instantiated with no arguments) or an instance with an
async ``start(client, spec)`` method. The name EMCO uses in ``/invoke/{name}`` is the
entry point name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points

from emco_migrate.workflowclients.protocol import StartedWorkflow, WorkflowClient

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "emco_migrate.workflowclients"

# What `/invoke/{name}` accepts (also what may be looked up as DIR/<name> in --exec-dir).
CLIENT_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]+")


def is_valid_client_name(name: str) -> bool:
    """Whether ``name`` may name a workflow client (letters, digits, ``_`` and ``-``)."""
    return CLIENT_NAME_PATTERN.fullmatch(name) is not None


class WorkflowClientRegistry:
    """In-process workflow clients by name."""

    def __init__(self, clients: Mapping[str, WorkflowClient]) -> None:
        self._clients = dict(clients)

    @classmethod
    def from_entry_points(
        cls,
        group: str = ENTRY_POINT_GROUP,
        *,
        built_in: Mapping[str, WorkflowClient] | None = None,
    ) -> WorkflowClientRegistry:
        """Load every client declared in ``group``, plus the ``built_in`` ones (the server's
        own instances, configured by it), which win over an entry point of the same name.

        A client that fails to load is logged and left out, so one broken plugin does
        not take the server down; requests for it then get 404.
        """
        clients: dict[str, WorkflowClient] = dict(built_in or {})
        for entry in _unique(entry_points(group=group)):
            if entry.name in clients:
                continue
            if not is_valid_client_name(entry.name):
                log.warning("ignoring workflow client %r: invalid name", entry.name)
                continue
            try:
                clients[entry.name] = _instantiate(entry)
            except Exception:
                log.exception("cannot load workflow client %r (%s)", entry.name, entry.value)
        return cls(clients)

    def get(self, name: str) -> WorkflowClient | None:
        """The client called ``name``, or None."""
        return self._clients.get(name)

    def names(self) -> list[str]:
        """Registered client names, sorted."""
        return sorted(self._clients)

    def __contains__(self, name: object) -> bool:
        return name in self._clients


def _unique(entries: Iterable[EntryPoint]) -> list[EntryPoint]:
    # An editable install next to a regular one can list the same entry point twice.
    seen: dict[str, EntryPoint] = {}
    for entry in entries:
        seen.setdefault(entry.name, entry)
    return list(seen.values())


def _instantiate(entry: EntryPoint) -> WorkflowClient:
    target = entry.load()
    instance = target() if isinstance(target, type) else target
    if not isinstance(instance, WorkflowClient):
        raise TypeError(f"{entry.value} has no async start(client, spec) method")
    return instance


__all__ = ["StartedWorkflow", "WorkflowClient", "WorkflowClientRegistry", "is_valid_client_name"]
