"""Running an ASGI app with uvicorn the way our processes stop: gracefully, exit code 0."""

from __future__ import annotations

from types import FrameType

import uvicorn


class GracefulServer(uvicorn.Server):
    """A uvicorn server that, after a graceful shutdown on SIGINT/SIGTERM, returns.

    uvicorn re-raises the stop signal once it has shut down, so the process would end with
    -15 / 143; like the worker, our servers end with 0 after a requested stop.
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()
