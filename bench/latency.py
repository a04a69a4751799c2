"""Latency figures from samples (seconds in, milliseconds out): nearest-rank percentiles, no interpolation, so
a p99 is a latency some request really had."""

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], q: float) -> float:
    """The nearest-rank `q`-th percentile (0 < q <= 100) of `samples`."""
    if not samples:
        raise ValueError("a percentile needs at least one sample")
    if not 0 < q <= 100:
        raise ValueError("q is a percentage in (0, 100]")
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Latency:
    """p50 and p99 of a run's request latencies, in milliseconds."""

    p50_ms: float
    p99_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> "Latency":
        return cls(percentile(seconds, 50) * 1000, percentile(seconds, 99) * 1000)
