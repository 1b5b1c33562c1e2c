"""One unit of work: the stores of a transaction, the time it happens at, and the rollout."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from emco_migrate.emcosim.deploy.rollout import Rollout
from emco_migrate.emcosim.store import ObjectStore, Tx
from emco_migrate.emcosim.store.clusters import ClusterSettingsStore
from emco_migrate.emcosim.store.contexts import ContextStore
from emco_migrate.emcosim.store.states import StateLogs


@dataclass
class Session:
    """Everything an operation reads and writes, at one instant."""

    tx: Tx
    now: float
    default_delay: float

    def __post_init__(self) -> None:
        self.objects = ObjectStore(self.tx)
        self.states = StateLogs(self.tx)
        self.contexts = ContextStore(self.tx)
        self.clusters = ClusterSettingsStore(self.tx)
        self.rollout = Rollout(self.contexts, self.clusters, self.now, self.default_delay)

    def new_context_id(self) -> str:
        """A fresh context id: the decimal form of a random 63-bit integer, like EMCO's."""
        while True:
            candidate = str(secrets.randbits(63))
            if self.contexts.get(candidate) is None:
                return candidate
