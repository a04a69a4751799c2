"""Latency percentiles are nearest-rank: each is a latency some request had."""

import pytest

from bench.latency import Latency, percentile


def test_a_percentile_is_the_nearest_ranked_sample() -> None:
    samples = [float(n) for n in range(1, 101)]  # 1..100
    assert percentile(samples, 50) == 50.0
    assert percentile(samples, 99) == 99.0
    assert percentile(samples, 100) == 100.0
    assert percentile([0.3], 99) == 0.3
    assert percentile([0.2, 0.1], 50) == 0.1


def test_a_latency_is_given_in_milliseconds() -> None:
    assert Latency.of([0.010, 0.020, 0.030]) == Latency(p50_ms=20.0, p99_ms=30.0)


def test_a_percentile_needs_samples_and_a_percentage() -> None:
    with pytest.raises(ValueError, match="at least one sample"):
        percentile([], 50)
    with pytest.raises(ValueError, match="percentage"):
        percentile([1.0], 0)
