"""The emulator's SQLite state, shared by every emulator process that uses the same file."""

from emco_migrate.emcosim.store.db import Database, Tx
from emco_migrate.emcosim.store.objects import ObjectStore, Ref

__all__ = ["Database", "ObjectStore", "Ref", "Tx"]
