"""Settings of one emulator process, built from the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9015  # the orchestrator's port; every process serves every service
DEFAULT_READY_DELAY = 1.0
DEFAULT_HTTP_TIMEOUT = 10.0


def default_db_path() -> Path:
    """The shared state file under the user's state directory."""
    return Path(platformdirs.user_state_dir("emco-migrate")) / "emcosim.db"


@dataclass(frozen=True)
class EmulatorSettings:
    """How the emulator listens, where it keeps state, and how fast simulated clusters are."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    db: str = field(default_factory=lambda: str(default_db_path()))
    ready_delay: float = DEFAULT_READY_DELAY
    access_log: bool = False
    http_timeout: float = DEFAULT_HTTP_TIMEOUT  # workflowmgr's POST to a workflow client
