"""Action logs (EMCO's `stateInfo`) of DIGs and logical clouds."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from emco_migrate.emcosim.store.db import Tx
from emco_migrate.emcosim.store.objects import Ref
from emco_migrate.wire.emco import DigState as State
from emco_migrate.wire.structs import from_json, go, go_json

__all__ = ["State", "StateInfo", "StateLogs", "rfc3339"]


def rfc3339(epoch: float) -> str:
    """Go's time.Time JSON form (RFC3339 with nanosecond digits trimmed), in UTC."""
    stamp = datetime.fromtimestamp(epoch, UTC)
    fraction = f"{stamp.microsecond:06d}".rstrip("0")
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


@dataclass(frozen=True)
class Action:
    """One entry of the action log."""

    GO_NAME: ClassVar[str] = "state.ActionEntry"

    state: str = field(default="", metadata=go("state"))
    instance: str = field(default="", metadata=go("instance"))
    time: str = field(default="", metadata=go("time"))
    revision: int = field(default=0, metadata=go("revision"))


@dataclass(frozen=True)
class StateInfo:
    """The action log and the status context of the latest instantiation."""

    GO_NAME: ClassVar[str] = "state.StateInfo"

    status_context: str = field(default="", metadata=go("statusctxid"))
    actions: list[Action] | None = field(default=None, metadata=go("actions"))

    @property
    def current(self) -> State:
        """The state of the last action (Undefined if the log is empty)."""
        return State(self.actions[-1].state) if self.actions else State.UNDEFINED

    @property
    def last_context(self) -> str:
        """The context of the last action that has one ("" if none)."""
        for action in reversed(self.actions or []):
            if action.instance:
                return action.instance
        return ""

    @property
    def revision(self) -> int:
        """The revision of the last Instantiated action (0 before any)."""
        for action in reversed(self.actions or []):
            if action.state == State.INSTANTIATED:
                return action.revision
        return 0

    def contexts(self) -> list[str]:
        """Every context id in the log, oldest first, without repeats."""
        seen: dict[str, None] = {}
        for action in self.actions or []:
            if action.instance:
                seen.setdefault(action.instance)
        return list(seen)

    def add(self, state: State, now: float, *, instance: str = "", revision: int = 0) -> StateInfo:
        """The log with one more action."""
        action = Action(state.value, instance, rfc3339(now), revision)
        return dataclasses.replace(self, actions=[*(self.actions or []), action])


class StateLogs:
    """The `state_logs` table, keyed by the owning document."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    def get(self, owner: Ref) -> StateInfo | None:
        """The owner's log, or None when it has none."""
        row = self.tx.execute("SELECT doc FROM state_logs WHERE owner = ?", (owner.key,)).fetchone()
        return None if row is None else from_json(StateInfo, row["doc"])

    def put(self, owner: Ref, info: StateInfo) -> None:
        """Store the owner's log."""
        self.tx.execute(
            "INSERT INTO state_logs (owner, doc) VALUES (?, ?) "
            "ON CONFLICT (owner) DO UPDATE SET doc = excluded.doc",
            (owner.key, go_json(info).decode()),
        )

    def delete(self, owner: Ref) -> None:
        """Forget the owner's log."""
        self.tx.execute("DELETE FROM state_logs WHERE owner = ?", (owner.key,))
