"""What the API looked up a moment ago, kept a few seconds: the client of an API key, a clinic's time zone.

Each costs a database round trip on every request otherwise. Only what was found is kept (an unknown key, or a
new clinic, is looked up again each time, so a key created or a clinic added works at once); an entry is used
for `seconds` after its look-up and then looked up again, so a revoked or rotated key stops working, and a
clinic's changed time zone applies, within that time (`DVR_API_KEY_CACHE_SECONDS`, README "API keys").
"""

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    def __init__(
        self, seconds: float, *, clock: Callable[[], float] = time.monotonic, limit: int = 10_000
    ) -> None:
        self._seconds, self._clock, self._limit = seconds, clock, limit
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            del self._entries[key]
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if self._seconds <= 0:
            return
        if len(self._entries) >= self._limit:
            self._entries.clear()  # many keys or sites at once is not this cache's case: start again
        self._entries[key] = (self._clock() + self._seconds, value)
