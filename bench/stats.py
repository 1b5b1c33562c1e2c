"""Figures from raw samples: percentiles, one round's rates, medians over rounds."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(samples: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``samples``; NaN when there are none."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    """The median, ignoring NaN; NaN when nothing is left."""
    kept = [v for v in values if not math.isnan(v)]
    return statistics.median(kept) if kept else math.nan


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when either is missing or the denominator is 0."""
    if math.isnan(numerator) or math.isnan(denominator) or denominator == 0:
        return math.nan
    return numerator / denominator


def paired_ratio(numerator: Summary, denominator: Summary) -> float:
    """The median over rounds of each round's rate ratio: variants that ran back to back
    share that round's machine load, so pairing them cancels most of the noise."""
    pairs = zip(numerator.rounds, denominator.rounds, strict=False)
    return median([ratio(n.rate, d.rate) for n, d in pairs])


def paired_p99_ratio(numerator: Summary, denominator: Summary) -> float:
    """The median over rounds of each round's p99 ratio (paired as in `paired_ratio`)."""
    pairs = zip(numerator.rounds, denominator.rounds, strict=False)
    return median([ratio(n.p99, d.p99) for n, d in pairs])


def paired_cpu_ratio(numerator: Summary, denominator: Summary, process: str) -> float:
    """The median over rounds of each round's ratio of ``process``'s CPU per operation
    (paired as in `paired_ratio`)."""
    pairs = zip(numerator.rounds, denominator.rounds, strict=False)
    return median(
        [ratio(n.cpu_ms_per_operation(process), d.cpu_ms_per_operation(process)) for n, d in pairs]
    )


def cpu_in_use(summary: Summary) -> float:
    """CPUs the processes used together during a variant's rounds (median over rounds)."""
    return median([ratio(sum(r.cpu.values()), r.seconds) for r in summary.rounds if r.cpu])


@dataclass(frozen=True)
class Round:
    """One round of one variant: how many operations, how long, each one's latency."""

    operations: int
    seconds: float
    latencies: tuple[float, ...]
    errors: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by process

    def cpu_ms_per_operation(self, process: str) -> float:
        """CPU milliseconds ``process`` spent per operation in this round."""
        if process not in self.cpu or not self.operations:
            return math.nan
        return self.cpu[process] * 1000 / self.operations

    @property
    def rate(self) -> float:
        """Operations per second over the round's wall time."""
        return self.operations / self.seconds if self.seconds > 0 else math.nan

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99)


@dataclass(frozen=True)
class Summary:
    """A variant over several rounds: the median of each per-round figure."""

    rounds: tuple[Round, ...]

    @property
    def rate(self) -> float:
        return median([r.rate for r in self.rounds])

    @property
    def p50(self) -> float:
        return median([r.p50 for r in self.rounds])

    @property
    def p99(self) -> float:
        return median([r.p99 for r in self.rounds])

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.rounds)

    def cpu_ms_per_operation(self, process: str) -> float:
        return median([r.cpu_ms_per_operation(process) for r in self.rounds])

    @property
    def processes(self) -> list[str]:
        return sorted({name for r in self.rounds for name in r.cpu})

    def to_json(self) -> dict[str, object]:
        """Medians (latencies in ms) and every round's figures."""
        return {
            "rate": _finite(self.rate),
            "p50Ms": _finite(self.p50 * 1000),
            "p99Ms": _finite(self.p99 * 1000),
            "errors": self.errors,
            "cpuMsPerOperation": {
                name: _finite(self.cpu_ms_per_operation(name)) for name in self.processes
            },
            "rounds": [
                {
                    "operations": r.operations,
                    "seconds": round(r.seconds, 4),
                    "rate": _finite(r.rate),
                    "p50Ms": _finite(r.p50 * 1000),
                    "p99Ms": _finite(r.p99 * 1000),
                    "errors": r.errors,
                    "cpuSeconds": {name: round(v, 3) for name, v in r.cpu.items()},
                }
                for r in self.rounds
            ],
        }


def _finite(value: float) -> float | None:
    """JSON has no NaN: missing figures are null."""
    return None if math.isnan(value) else round(value, 3)


@dataclass(frozen=True)
class RequestCounts:
    """The emulator's ``/v2`` requests over one round (`bench.emco_sim`'s meter).

    ``buckets`` are (bucket index, requests) with bucket index = arrival time in Unix seconds
    divided by ``bucket_seconds``; ``logged_writes`` is how many writes the emulator's own
    request log holds for the round (it records writes only), a check on the meter.
    """

    reads: int
    writes: int
    logged_writes: int
    bucket_seconds: float
    buckets: tuple[tuple[int, int], ...] = ()

    @property
    def total(self) -> int:
        return self.reads + self.writes

    def peak_rate(self, window_seconds: float) -> float:
        """Requests per second in the busiest ``window_seconds`` (a sliding window of whole
        buckets); NaN with no requests, or when they all came within less than the window."""
        if not self.buckets:
            return math.nan
        counts = dict(self.buckets)
        first, last = min(counts), max(counts)
        width = max(1, round(window_seconds / self.bucket_seconds))
        if last - first + 1 < width:
            return math.nan
        dense = [counts.get(i, 0) for i in range(first, last + 1)]
        best = running = sum(dense[:width])
        for i in range(width, len(dense)):
            running += dense[i] - dense[i - width]
            best = max(best, running)
        return best / (width * self.bucket_seconds)

    def to_json(self) -> dict[str, object]:
        return {
            "reads": self.reads,
            "writes": self.writes,
            "writesInRequestLog": self.logged_writes,
            "peak1sPerSecond": _finite(self.peak_rate(1.0)),
            "peak5sPerSecond": _finite(self.peak_rate(5.0)),
        }
