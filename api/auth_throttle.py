"""Throttling repeated failed authentication, per client address, in memory.

An address that has sent `allowed` wrong API keys within `window` seconds is answered 429 with Retry-After
until the oldest of those failures is older than the window; the check comes before the key is looked up, so
a guesser costs the database nothing. A missing key is not counted (it costs no look-up). Each API process
keeps its own count, which is enough to make guessing a 256-bit key pointless.
"""

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from api.problems import Problem

# Addresses remembered at most; the least recently failing are forgotten first.
MAX_ADDRESSES = 10_000


class AuthThrottle:
    def __init__(self, *, allowed: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.allowed, self.window, self._clock = allowed, window, clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def check(self, address: str) -> None:
        """Raises a 429 problem when `address` has used up its failures within the window."""
        failures = self._recent(address)
        if len(failures) >= self.allowed:
            retry_after = max(1, math.ceil(failures[0] + self.window - self._clock()))
            raise Problem(
                429,
                "too-many-failed-authentications",
                "Too many requests with a wrong API key from this address; try again later.",
                headers={"Retry-After": str(retry_after)},
            )

    def failed(self, address: str) -> None:
        """Counts one wrong key sent from `address`."""
        failures = self._recent(address)
        failures.append(self._clock())
        self._failures[address] = failures
        self._failures.move_to_end(address)
        while len(self._failures) > MAX_ADDRESSES:
            self._failures.popitem(last=False)

    def _recent(self, address: str) -> deque[float]:
        failures = self._failures.get(address, deque())
        horizon = self._clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures
