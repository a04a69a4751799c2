"""Whether the MRI on file is recent enough to review."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.config import CLINICAL, DEMO
from domain.mri import mri_is_recent
from domain.referral import MriOnFile

TODAY = date(2025, 11, 25)
YEAR = timedelta(days=365)


def mri_on(day: date) -> MriOnFile:
    return MriOnFile(performed_on=day, study_ref="STUDY-1")


def test_no_mri_on_file_is_not_recent() -> None:
    assert not mri_is_recent(None, TODAY, YEAR)


@pytest.mark.parametrize(
    ("age_days", "recent"),
    [(0, True), (1, True), (30, True), (364, True), (365, True), (366, False), (2000, False), (-1, False)],
)
def test_recent_within_max_age(age_days: int, recent: bool) -> None:
    assert mri_is_recent(mri_on(TODAY - timedelta(days=age_days)), TODAY, YEAR) is recent


def test_leap_year_counts_days_not_calendar_years() -> None:
    # 2024 is a leap year: the same date a calendar year earlier is 366 days old.
    assert not mri_is_recent(mri_on(date(2024, 2, 28)), date(2025, 2, 28), YEAR)
    assert mri_is_recent(mri_on(date(2024, 2, 29)), date(2025, 2, 28), YEAR)


def test_both_profiles_use_a_year() -> None:
    assert CLINICAL.mri_max_age == YEAR
    assert DEMO.mri_max_age == YEAR


@given(
    performed_on=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)),
    today=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)),
    max_age_days=st.integers(min_value=0, max_value=3000),
)
def test_recent_exactly_when_age_in_range(performed_on: date, today: date, max_age_days: int) -> None:
    age = (today - performed_on).days
    assert mri_is_recent(mri_on(performed_on), today, timedelta(days=max_age_days)) == (
        0 <= age <= max_age_days
    )


@given(
    performed_on=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)),
    today=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)),
    shorter=st.integers(min_value=0, max_value=3000),
    extra=st.integers(min_value=0, max_value=3000),
)
def test_longer_max_age_never_makes_an_mri_stale(
    performed_on: date, today: date, shorter: int, extra: int
) -> None:
    mri = mri_on(performed_on)
    if mri_is_recent(mri, today, timedelta(days=shorter)):
        assert mri_is_recent(mri, today, timedelta(days=shorter + extra))


@given(today=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)), ahead=st.integers(1, 1000))
def test_future_mri_is_never_recent(today: date, ahead: int) -> None:
    assert not mri_is_recent(mri_on(today + timedelta(days=ahead)), today, timedelta(days=100_000))
