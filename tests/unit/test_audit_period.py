"""An audit export's period: ordered, at most 366 days, and over, so that no entry still being written (its
`at` is its transaction's start) falls between two exports."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.audit_period import SETTLING, period_problem

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_a_period_over_for_long_enough_is_fine() -> None:
    assert period_problem(NOW - timedelta(days=1), NOW - SETTLING, now=NOW) is None
    assert period_problem(datetime(2001, 1, 1, tzinfo=UTC), datetime(2002, 1, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    "until",
    [NOW - SETTLING + timedelta(seconds=1), NOW, NOW + timedelta(days=1)],
    ids=["ended-just-now", "ending-now", "not-over"],
)
def test_a_period_not_over_for_long_enough_is_refused(until: datetime) -> None:
    problem = period_problem(until - timedelta(days=1), until, now=NOW)
    assert problem == (
        "the period must have ended: until must be at least 5 minutes ago"
        " (at most 2026-12-05T11:55:00+00:00), so that no entry still being written is left out"
    )


def test_an_offset_does_not_change_when_a_period_ends() -> None:
    minus_seven = datetime.fromisoformat("2026-12-05T04:56:00-07:00")  # 11:56 UTC
    assert period_problem(minus_seven - timedelta(days=1), minus_seven, now=NOW) is not None
    minus_seven = datetime.fromisoformat("2026-12-05T04:55:00-07:00")  # 11:55 UTC
    assert period_problem(minus_seven - timedelta(days=1), minus_seven, now=NOW) is None
