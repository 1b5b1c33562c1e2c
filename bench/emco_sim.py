"""``python -m bench.emco_sim``: the EMCO emulator with a request meter in front of it.

The emulator's own request log (``/emulator/v1/requests``) records writes only, and one row
per write; a migration's requests are mostly reads (status polls, intent reads). The meter
counts every ``/v2`` request, reads and writes, in 100 ms buckets of arrival time, at the
cost of a dictionary increment. ``GET /bench/v1/requests`` returns the counts since the last
``DELETE /bench/v1/requests``. Everything else is `emco-migrate emco-sim` unchanged.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from emco_migrate.emcosim.main import add_arguments, check_listen, open_state, settings_from
from emco_migrate.serving import GracefulServer

METER_PATH = "/bench/v1/requests"
BUCKET_SECONDS = 0.1
EMCO_PREFIX = "/v2/"
READS = frozenset({"GET", "HEAD", "OPTIONS"})


class RequestMeter:
    """ASGI middleware: counts ``/v2`` requests by kind and arrival bucket; serves the counts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.reads = 0
        self.writes = 0
        self.buckets: Counter[int] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(EMCO_PREFIX):
                if scope["method"] in READS:
                    self.reads += 1
                else:
                    self.writes += 1
                self.buckets[int(time.time() / BUCKET_SECONDS)] += 1
            elif path == METER_PATH:
                await self._serve(scope["method"], send)
                return
        await self.app(scope, receive, send)

    async def _serve(self, method: str, send: Send) -> None:
        if method == "DELETE":
            self.reads = self.writes = 0
            self.buckets.clear()
            status, body = 204, b""
        elif method == "GET":
            status = 200
            body = json.dumps(
                {
                    "reads": self.reads,
                    "writes": self.writes,
                    "bucketSeconds": BUCKET_SECONDS,
                    "buckets": sorted(self.buckets.items()),
                }
            ).encode()
        else:
            status, body = 405, b""
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.emco_sim", description=__doc__)
    add_arguments(parser)
    settings = settings_from(parser.parse_args(argv))
    check_listen(settings.host, settings.port)
    # Imported here as `emco-sim` does: FastAPI and every route take a while to load.
    from emco_migrate.emcosim.app import create_app

    app = create_app(settings, db=open_state(settings.db))
    app.add_middleware(RequestMeter)  # the outermost layer: sees what a client sent
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        access_log=settings.access_log,
        log_config=None,
        lifespan="on",
    )
    GracefulServer(config).run()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main(sys.argv[1:]))
