"""What the API keeps of a look-up (api/recent.py): for its seconds, then looked up again; nothing at 0 s."""

from api.recent import Recent


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_kept_for_its_seconds_and_then_dropped() -> None:
    clock = Clock()
    recent = Recent[str, str](5.0, clock=clock)
    recent.put("key", "client")
    clock.now += 4.9
    assert recent.get("key") == "client"
    clock.now += 0.1
    assert recent.get("key") is None
    assert recent.get("key") is None  # dropped, not revived


def test_nothing_is_kept_with_zero_seconds() -> None:
    recent = Recent[str, str](0.0)
    recent.put("key", "client")
    assert recent.get("key") is None


def test_a_full_cache_starts_again_rather_than_grow() -> None:
    recent = Recent[int, int](5.0, limit=3)
    for n in range(4):
        recent.put(n, n)
    assert [recent.get(n) for n in range(4)] == [None, None, None, 3]
