"""The supervisor's restart delays: doubling from the first to the longest, starting over after a good run."""

from workers.supervisor import Backoff

BACKOFF = Backoff(first=1.0, longest=30.0, reset_after=60.0)


def delays(up_for: list[float]) -> list[float]:
    """The delay before each restart, for processes that ran these many seconds before exiting."""
    result: list[float] = []
    previous: float | None = None
    for seconds in up_for:
        previous = BACKOFF.next_delay(previous, seconds)
        result.append(previous)
    return result


def test_delays_double_from_one_second_up_to_thirty() -> None:
    assert delays([0.1] * 7) == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_a_process_that_stayed_up_a_minute_starts_the_delays_over() -> None:
    assert delays([0.1, 0.1, 0.1, 60.0, 0.1]) == [1.0, 2.0, 4.0, 1.0, 2.0]


def test_a_process_up_for_less_than_the_reset_time_keeps_doubling() -> None:
    assert delays([0.1, 59.9]) == [1.0, 2.0]
