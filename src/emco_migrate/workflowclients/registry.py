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
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Protocol, runtime_checkable

from temporalio.client import Client

from emco_migrate.emcomigrate.endpoints import EmcoUrlPolicy
from emco_migrate.emcomigrate.names import MIGRATE_WORKFLOW_CLIENT
from emco_migrate.gowire import TemporalSpec

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "emco_migrate.workflowclients"
BUILT_IN = "emco_migrate.workflowclients.migrate_workflowclient.client:MigrateWorkflowClient"

# What `/invoke/{name}` accepts (also what may be looked up as DIR/<name> in --exec-dir).
CLIENT_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]+")


def is_valid_client_name(name: str) -> bool:
    """Whether ``name`` may name a workflow client (letters, digits, ``_`` and ``-``)."""
    return CLIENT_NAME_PATTERN.fullmatch(name) is not None


@dataclass(frozen=True)
class StartedWorkflow:
    """The execution a workflow client started."""

    workflow_id: str
    run_id: str


@runtime_checkable
class WorkflowClient(Protocol):
    """Starts one kind of workflow from EMCO's WfTemporalSpec.

    ``start`` returns once Temporal has accepted the start; it never waits for the
    workflow. It raises `InvalidSpec` for a spec it cannot start,
    `WorkflowAlreadyRunning` when the ID is taken, `TemporalUnreachable` when Temporal
    does not answer and `WorkflowStartRefused` for any other refusal (all in
    `emco_migrate.workflowclients.errors`).
    """

    async def start(self, client: Client, spec: TemporalSpec) -> StartedWorkflow: ...


class WorkflowClientRegistry:
    """In-process workflow clients by name."""

    def __init__(self, clients: Mapping[str, WorkflowClient]) -> None:
        self._clients = dict(clients)

    @classmethod
    def from_entry_points(
        cls, group: str = ENTRY_POINT_GROUP, *, policy: EmcoUrlPolicy | None = None
    ) -> WorkflowClientRegistry:
        """Load every client declared in ``group``, plus the built-in migrate client (which
        refuses EMCO URLs outside ``policy``; default: ``EMCO_MIGRATE_ALLOW_EMCO_URLS``).

        A client that fails to load is logged and left out, so one broken plugin does
        not take the server down; requests for it then get 404.
        """
        from emco_migrate.workflowclients.migrate_workflowclient.client import (
            MigrateWorkflowClient,
        )

        clients: dict[str, WorkflowClient] = {
            MIGRATE_WORKFLOW_CLIENT: MigrateWorkflowClient(policy)
        }
        for entry in _unique(entry_points(group=group)):
            if entry.value == BUILT_IN:
                continue  # ours, declared for discoverability: the one above has the policy
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
