"""Comparative blocks: which block follows which, on which day, and the pair's concordance."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.comparative_blocks import concordance, goes_on_to_second_block, second_block_not_before
from domain.stages import ReliefResult
from domain.view import ReliefCheckView

PHOENIX = "America/Phoenix"
WITH_RELIEF = [ReliefResult.POSITIVE, ReliefResult.PROLONGED]
WITHOUT_RELIEF = [ReliefResult.NEGATIVE, ReliefResult.INDETERMINATE]
minutes = st.none() | st.floats(min_value=0, max_value=24 * 60, allow_nan=False)


def block(result: ReliefResult | None, duration: float | None = None) -> ReliefCheckView:
    return ReliefCheckView(result=result, relief_duration_minutes=duration)


def test_only_a_first_block_with_relief_goes_on_to_the_second() -> None:
    assert [goes_on_to_second_block(r) for r in ReliefResult] == [r in WITH_RELIEF for r in ReliefResult]


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (block(ReliefResult.POSITIVE, 90), block(ReliefResult.POSITIVE, 240), "concordant"),
        (block(ReliefResult.POSITIVE, 90), block(ReliefResult.PROLONGED, 465), "concordant"),
        (block(ReliefResult.PROLONGED, 465), block(ReliefResult.PROLONGED, 470), "concordant"),
        (block(ReliefResult.POSITIVE, 240), block(ReliefResult.POSITIVE, 90), "discordant"),
        (block(ReliefResult.POSITIVE, 90), block(ReliefResult.POSITIVE, 90), "discordant"),
        # A prolonged block's run is compared as measured, though its relief outlasted the diary.
        (block(ReliefResult.POSITIVE, 240), block(ReliefResult.PROLONGED, 120), "discordant"),
        (block(ReliefResult.POSITIVE, 90), block(ReliefResult.NEGATIVE), "second_block_not_positive"),
        (block(ReliefResult.PROLONGED, 90), block(ReliefResult.INDETERMINATE), "second_block_not_positive"),
    ],
)
def test_the_pairs_concordance(first: ReliefCheckView, second: ReliefCheckView, expected: str) -> None:
    assert concordance(first, second) == expected


@given(st.sampled_from(WITH_RELIEF), minutes, st.sampled_from(WITH_RELIEF), minutes)
def test_two_blocks_with_relief_are_concordant_exactly_when_the_second_lasted_longer(
    first: ReliefResult, first_minutes: float | None, second: ReliefResult, second_minutes: float | None
) -> None:
    verdict = concordance(block(first, first_minutes), block(second, second_minutes))
    longer = (second_minutes or 0) > (first_minutes or 0)
    assert verdict == ("concordant" if longer else "discordant")


@given(st.sampled_from(WITH_RELIEF), minutes, st.sampled_from(WITHOUT_RELIEF), minutes)
def test_a_second_block_without_relief_is_not_positive_whatever_the_durations(
    first: ReliefResult, first_minutes: float | None, second: ReliefResult, second_minutes: float | None
) -> None:
    assert concordance(block(first, first_minutes), block(second, second_minutes)) == (
        "second_block_not_positive"
    )


@given(st.sampled_from([None, *WITHOUT_RELIEF]), st.sampled_from([None, *ReliefResult]))
def test_no_pair_no_concordance(first: ReliefResult | None, second: ReliefResult | None) -> None:
    assert concordance(block(first, 60), block(second, 120)) is None


@given(st.sampled_from(WITH_RELIEF))
def test_no_concordance_until_the_second_block_is_evaluated(first: ReliefResult) -> None:
    assert concordance(block(first, 60), block(None)) is None


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)))
def test_the_second_block_is_not_before_the_next_local_day(at: datetime) -> None:
    tz = ZoneInfo(PHOENIX)
    not_before = second_block_not_before(at, PHOENIX)
    local = not_before.astimezone(tz)
    assert (local.hour, local.minute, local.second) == (0, 0, 0)
    assert local.date() == at.astimezone(tz).date() + timedelta(days=1)
    assert timedelta(0) < not_before - at <= timedelta(days=1)


def test_a_block_late_in_the_local_evening_is_followed_from_the_next_local_midnight() -> None:
    late = datetime(2025, 11, 24, 23, 30, tzinfo=ZoneInfo(PHOENIX))  # 06:30 UTC the next day
    assert second_block_not_before(late, PHOENIX) == datetime(2025, 11, 25, tzinfo=ZoneInfo(PHOENIX))
