"""Repeated wrong API keys from one address are throttled (429 with Retry-After), on a clock of the test."""

import pytest

from api.auth_throttle import AuthThrottle
from api.problems import Problem


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttled(throttle: AuthThrottle, address: str) -> Problem | None:
    try:
        throttle.check(address)
    except Problem as problem:
        return problem
    return None


def test_the_allowed_failures_pass_and_the_next_request_is_429() -> None:
    clock = Clock()
    throttle = AuthThrottle(allowed=3, window=60, clock=clock)
    for _ in range(3):
        assert throttled(throttle, "10.0.0.1") is None
        throttle.failed("10.0.0.1")
        clock.now += 1
    problem = throttled(throttle, "10.0.0.1")
    assert problem is not None
    assert (problem.status, problem.slug) == (429, "too-many-failed-authentications")
    # The oldest failure (at 1000) leaves the window at 1060; it is now 1003.
    assert problem.headers == {"Retry-After": "57"}


def test_other_addresses_are_not_throttled() -> None:
    throttle = AuthThrottle(allowed=1, window=60, clock=Clock())
    throttle.failed("10.0.0.1")
    assert throttled(throttle, "10.0.0.1") is not None
    assert throttled(throttle, "10.0.0.2") is None


def test_failures_older_than_the_window_no_longer_count() -> None:
    clock = Clock()
    throttle = AuthThrottle(allowed=2, window=60, clock=clock)
    throttle.failed("10.0.0.1")
    clock.now += 30
    throttle.failed("10.0.0.1")
    assert throttled(throttle, "10.0.0.1") is not None
    clock.now += 30  # the first failure has left the window
    assert throttled(throttle, "10.0.0.1") is None
    throttle.failed("10.0.0.1")
    problem = throttled(throttle, "10.0.0.1")
    assert problem is not None and problem.headers == {"Retry-After": "30"}


def test_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("api.auth_throttle.MAX_ADDRESSES", 3)
    throttle = AuthThrottle(allowed=1, window=60, clock=Clock())
    for n in range(5):
        throttle.failed(f"10.0.0.{n}")
    assert throttled(throttle, "10.0.0.0") is None  # forgotten, the least recent
    assert throttled(throttle, "10.0.0.4") is not None
