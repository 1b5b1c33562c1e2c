"""How long an app was Ready on no cluster, measured from the verification's status polls.

Each poll answers, per app, whether some cluster has it Ready. The time between two
observations counts with the later one's answer: a poll that finds the app Ready nowhere
counts as down back to the observation before it. A verification's first poll counts back to
when the run stopped seeing the app: the start of the step that moved it (``/update`` or
``/rollback``; until then the app was where the run found it), or the last poll of a
verification that did not succeed. The start of each interruption the polls saw then lies
within one gap between two consecutive observations, and so does its end, the two errors in
opposite directions: the figure is within the largest gap (the stated bound) of the truth for
each interruption. An interruption shorter than the bound can fall between two polls unseen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emco_migrate.emcomigrate.messages import AppInterruption

DETAILS_KEY = "interruptions"


@dataclass
class _Watch:
    """One app's observations so far."""

    since: float  # the previous observation's start (or when the run stopped seeing it)
    seconds: float = 0.0
    bound: float = 0.0
    observations: int = 0
    ready: bool = True


class Tally:
    """One verification's observations of whether each app is Ready on some cluster."""

    def __init__(self, apps: Iterable[str], unobserved_since: Mapping[str, float]) -> None:
        self._apps = tuple(dict.fromkeys(apps))
        self._since = dict(unobserved_since)
        self._watches: dict[str, _Watch] = {}

    def observe(self, started: float, finished: float, ready: Mapping[str, bool | None]) -> None:
        """Record a poll that ran from ``started`` to ``finished`` (Unix seconds); an app
        whose answer is None (not known) is not observed by it."""
        for app in self._apps:
            answer = ready.get(app)
            if answer is None:
                continue
            watch = self._watches.get(app)
            if watch is None:
                watch = self._watches[app] = _Watch(since=self._since.get(app, started))
            if not answer:
                watch.seconds += max(0.0, started - watch.since)
            watch.bound = max(watch.bound, finished - watch.since)
            watch.observations += 1
            watch.ready = answer
            watch.since = started

    def measured(self) -> tuple[AppInterruption, ...]:
        """Per app observed at least once: what the polls saw."""
        return tuple(
            AppInterruption(
                app=app,
                seconds=w.seconds,
                bound_seconds=w.bound,
                observations=w.observations,
                ready=w.ready,
                observed_until=w.since,
            )
            for app in self._apps
            if (w := self._watches.get(app)) is not None
        )

    def details(self) -> dict[str, Any]:
        """The measurement as failure details (a verification that fails still reports)."""
        return {DETAILS_KEY: [dataclasses.asdict(m) for m in self.measured()]}


def from_details(details: Sequence[Any]) -> tuple[AppInterruption, ...]:
    """The measurement in a failed verification's details (none if it holds none)."""
    fields = {f.name for f in dataclasses.fields(AppInterruption)}
    for detail in details:
        entries = detail.get(DETAILS_KEY) if isinstance(detail, dict) else None
        if isinstance(entries, list):
            return tuple(
                AppInterruption(**{k: v for k, v in e.items() if k in fields})
                for e in entries
                if isinstance(e, dict) and fields <= e.keys()
            )
    return ()


def combined(before: AppInterruption | None, after: AppInterruption) -> AppInterruption:
    """Two consecutive measurements of one app as one: the times add up, the bound is the
    larger, the state is the later one's."""
    if before is None:
        return after
    return AppInterruption(
        app=after.app,
        seconds=before.seconds + after.seconds,
        bound_seconds=max(before.bound_seconds, after.bound_seconds),
        observations=before.observations + after.observations,
        ready=after.ready,
        observed_until=after.observed_until,
    )
