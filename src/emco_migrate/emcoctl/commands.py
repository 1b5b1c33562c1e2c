"""The apply, update, get and delete commands over a file's documents, as emcoctl runs them.

Output per request is emcoctl's block::

    ---
    POST  --> URL: http://host:9015/v2/projects
    Response Code: 201
    Response: {"metadata":{"name":"proj1"}}

A non-2xx answer counts as a failure: processing continues unless ``stop_on_error`` (``-s``).
Anything that is not an HTTP answer (unroutable anchor, unreadable ``file:``, EMCO
unreachable) stops the run, as in emcoctl. On 202 the runner waits ``accept_wait_seconds``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import TextIO

import httpx

from emco_migrate.emcoctl import routing
from emco_migrate.emcoctl.client import EmcoHttp, Exchange, FileError, Upload
from emco_migrate.emcoctl.config import ConfigError
from emco_migrate.emcoctl.documents import DocumentError, Resource
from emco_migrate.emcoctl.routing import AnchorError

# emcoctl's multipart file part for `file:` always carries this filename.
SINGLE_FILE_FIELD = "file"
SINGLE_FILE_NAME = "filename"
MULTI_FILE_FIELD = "files"


class Verb(StrEnum):
    """The emcoctl commands."""

    APPLY = "apply"
    UPDATE = "update"
    GET = "get"
    DELETE = "delete"


class RunAborted(Exception):
    """A failure that is not an HTTP answer: emcoctl stops at it whatever ``-s`` says."""


class Outcome(StrEnum):
    """What became of one document."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class RunResult:
    """Counts of a run; ``stopped`` is set when ``-s`` ended it early."""

    ok: int = 0
    failed: int = 0
    skipped: int = 0
    stopped: bool = False

    @property
    def succeeded(self) -> bool:
        """True when no request failed."""
        return self.failed == 0


class Runner:
    """Runs one command over resources, printing each exchange like emcoctl."""

    def __init__(
        self,
        http: EmcoHttp,
        *,
        out: TextIO,
        stop_on_error: bool = False,
        accept_wait_seconds: float = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = http
        self._out = out
        self._stop_on_error = stop_on_error
        self._accept_wait = accept_wait_seconds
        self._sleep = sleep

    # ----------------------------------------------------------------- documents

    def run(self, verb: Verb, resources: Sequence[Resource]) -> RunResult:
        """Run ``verb`` for each resource (delete walks them in reverse order)."""
        ordered = list(reversed(resources)) if verb is Verb.DELETE else list(resources)
        step = {
            Verb.APPLY: self._apply,
            Verb.UPDATE: self._update,
            Verb.GET: self._get,
            Verb.DELETE: self._delete,
        }[verb]
        counts = dict.fromkeys(Outcome, 0)
        stopped = False
        for resource in ordered:
            outcome = self._guarded(resource.describe(), partial(step, resource))
            counts[outcome] += 1
            if outcome is Outcome.FAILED and self._stop_on_error:
                stopped = True
                break
        return RunResult(
            counts[Outcome.OK], counts[Outcome.FAILED], counts[Outcome.SKIPPED], stopped
        )

    def _apply(self, r: Resource) -> Outcome:
        return self._send("POST", r.anchor, r)

    def _update(self, r: Resource) -> Outcome:
        if routing.last_segment(r.anchor) in routing.UPDATE_SKIPPED:
            return Outcome.SKIPPED
        return self._send("PUT", _own_anchor(r), r)

    def _get(self, r: Resource) -> Outcome:
        if routing.last_segment(r.anchor) in routing.GET_SKIPPED:
            return Outcome.SKIPPED
        return self.get_anchor(_own_anchor(r))

    def _delete(self, r: Resource) -> Outcome:
        action = routing.last_segment(r.anchor)
        if action in routing.DELETE_TERMINATES:
            return self.apply_anchor(routing.terminate_anchor(r.anchor))
        if action in routing.DELETE_SKIPPED:
            return Outcome.SKIPPED
        return self.delete_anchor(_own_anchor(r))

    def _send(self, method: str, anchor: str, r: Resource) -> Outcome:
        if r.file:
            uploads = [Upload.read(SINGLE_FILE_FIELD, r.file, SINGLE_FILE_NAME)]
        else:
            uploads = [Upload.read(MULTI_FILE_FIELD, f) for f in r.files]
        if uploads:
            exchange = self._http.send_multipart(method, anchor, r.body(), uploads)
        else:
            exchange = self._http.send_json(method, anchor, r.body())
        return self._report(exchange)

    # ----------------------------------------------------------------- bare anchors

    def apply_anchor(self, anchor: str) -> Outcome:
        """POST with an empty body (``apply <anchor>``, and delete's terminate)."""
        return self._report(self._http.send_json("POST", anchor, b""))

    def get_anchor(self, anchor: str) -> Outcome:
        """GET one anchor."""
        accept_json = routing.wants_json_metadata(anchor)
        return self._report(self._http.get(anchor, accept_json=accept_json))

    def delete_anchor(self, anchor: str) -> Outcome:
        """DELETE one anchor."""
        return self._report(self._http.delete(anchor))

    def run_anchor(self, verb: Verb, anchor: str) -> RunResult:
        """Run a command on an anchor given on the command line instead of a file."""
        step = {Verb.APPLY: self.apply_anchor, Verb.GET: self.get_anchor}.get(
            verb, self.delete_anchor
        )
        outcome = self._guarded(anchor, lambda: step(anchor))
        return RunResult(
            ok=int(outcome is Outcome.OK),
            failed=int(outcome is Outcome.FAILED),
            skipped=int(outcome is Outcome.SKIPPED),
        )

    # ----------------------------------------------------------------- output

    def _guarded(self, what: str, step: Callable[[], Outcome]) -> Outcome:
        try:
            return step()
        except (AnchorError, ConfigError, DocumentError, FileError) as err:
            raise RunAborted(f"{what}: {err}") from None
        except httpx.HTTPError as err:
            url = str(err.request.url) if _has_request(err) else "EMCO"
            raise RunAborted(f"{what}: {url}: {type(err).__name__}: {err}") from None

    def _report(self, exchange: Exchange) -> Outcome:
        print("---", file=self._out)
        print(f"{exchange.method}  --> URL: {exchange.url}", file=self._out)
        print(f"Response Code: {exchange.status_code}", file=self._out)
        if exchange.text:
            print(f"Response: {exchange.text.strip()}", file=self._out)
        if not exchange.ok:
            return Outcome.FAILED
        if exchange.status_code == httpx.codes.ACCEPTED:
            print("API Response code 202. Waiting...", file=self._out)
            if self._accept_wait > 0:
                self._sleep(self._accept_wait)
        return Outcome.OK


def _own_anchor(r: Resource) -> str:
    """The anchor of the document's resource itself (``anchor/<name>`` and variants)."""
    return routing.resource_anchor(
        r.anchor, r.metadata.name, r.cluster_label, r.composite_app_version()
    )


def _has_request(err: httpx.HTTPError) -> bool:
    try:
        err.request  # noqa: B018 - raises RuntimeError when the error has no request
    except RuntimeError:
        return False
    return True
