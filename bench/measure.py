"""Timing and memory primitives: one query at a time, wall clock, nearest-rank percentiles.

Latency is measured per call with `perf_counter_ns` after a warm-up pass, because the figure users
feel is one query's turnaround, not an average over a batch. A time budget bounds each run so a slow
engine at 100,000 entries costs seconds, not an hour, on a shared two-core machine.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import math
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import psutil


@dataclass(frozen=True)
class Latency:
    """Per-query wall times in milliseconds over `n` timed calls."""

    n: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float

    def to_json(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: always a value that was actually observed."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def time_queries(
    fn: Callable[[str], object],
    queries: Sequence[str],
    budget_s: float,
    rounds: int = 3,
    min_samples: int = 10,
) -> Latency:
    """Warm up once over a few queries, then time each call until `rounds` passes or the budget ends.

    The same query order is used for every system, so systems cut short by the budget were timed
    on a prefix of the same list.
    """
    for query in queries[: min(5, len(queries))]:
        fn(query)
    gc.collect()
    samples: list[float] = []
    deadline = time.perf_counter() + budget_s
    for _ in range(rounds):
        for query in queries:
            start = time.perf_counter_ns()
            fn(query)
            samples.append((time.perf_counter_ns() - start) / 1e6)
            if len(samples) >= min_samples and time.perf_counter() > deadline:
                return _summarise(samples)
    return _summarise(samples)


def _summarise(samples: Sequence[float]) -> Latency:
    if not samples:
        return Latency(0, math.nan, math.nan, math.nan, math.nan)
    return Latency(
        n=len(samples),
        p50_ms=percentile(samples, 50),
        p99_ms=percentile(samples, 99),
        mean_ms=sum(samples) / len(samples),
        max_ms=max(samples),
    )


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Call `fn` once; return its result and the wall time in seconds."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def rss_mb() -> float:
    """Current resident set size of this process."""
    return float(psutil.Process().memory_info().rss) / 2**20


def settled_rss_mb() -> float:
    """RSS after a full garbage collection and glibc's malloc_trim, where available.

    Plain RSS keeps the high-water mark of build-time temporaries that the allocator has not returned
    to the OS; this figure is closer to what the finished index really holds.
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: plain RSS after gc is the best we have
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
