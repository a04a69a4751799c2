"""Quiet hours: when a routine message to a patient may go, in their time zone, over midnight and DST."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from activities.messages import PATIENT_PARAMS
from domain.quiet_hours import (
    HELD_BY_THEIR_WORKFLOW,
    HELD_IN_QUIET_HOURS,
    SENT_AT_ONCE,
    QuietHours,
    next_allowed,
)

EVENINGS = QuietHours(start_hour=21, end_hour=8)
PHOENIX, NEW_YORK = "America/Phoenix", "America/New_York"

# Zones with DST (an hour, or half an hour on Lord Howe), half-hour offsets, and none.
time_zones_st = st.sampled_from(
    [PHOENIX, NEW_YORK, "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns", "UTC"]
)
instants_st = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
quiet_st = st.tuples(st.integers(0, 23), st.integers(0, 23)).filter(lambda h: h[0] != h[1])


def _local(year: int, month: int, day: int, hour: int, minute: int = 0, tz: str = PHOENIX) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz))


def _quiet_at(at: datetime, tz: str, quiet: QuietHours) -> bool:
    return quiet.contain(at.astimezone(ZoneInfo(tz)).hour)


def test_every_patient_template_is_either_held_or_sent_at_once() -> None:
    # A new template must be placed on purpose: held in quiet hours (by the messenger, or by the workflow
    # that sends it), or sent at once for a stated reason.
    placed = [HELD_IN_QUIET_HOURS, HELD_BY_THEIR_WORKFLOW, SENT_AT_ONCE]
    assert set(PATIENT_PARAMS) == set().union(*placed)
    assert sum(len(group) for group in placed) == len(set().union(*placed))  # each in one group only
    assert "red_flag_advice" in SENT_AT_ONCE
    assert {"follow_up_checkin", "outcome_check_in"} == HELD_BY_THEIR_WORKFLOW


def test_outside_quiet_hours_a_message_goes_now() -> None:
    now = _local(2026, 3, 4, 14, 30)
    assert next_allowed(now, PHOENIX, EVENINGS) == now
    assert next_allowed(_local(2026, 3, 4, 20, 59), PHOENIX, EVENINGS) == _local(2026, 3, 4, 20, 59)
    assert next_allowed(_local(2026, 3, 4, 8, 0), PHOENIX, EVENINGS) == _local(2026, 3, 4, 8, 0)


def test_in_the_evening_it_waits_until_the_next_morning() -> None:
    assert next_allowed(_local(2026, 3, 4, 21, 0), PHOENIX, EVENINGS) == _local(2026, 3, 5, 8)
    assert next_allowed(_local(2026, 3, 4, 23, 59), PHOENIX, EVENINGS) == _local(2026, 3, 5, 8)


def test_after_midnight_it_waits_until_the_same_morning() -> None:
    assert next_allowed(_local(2026, 3, 5, 0, 0), PHOENIX, EVENINGS) == _local(2026, 3, 5, 8)
    assert next_allowed(_local(2026, 3, 5, 7, 59), PHOENIX, EVENINGS) == _local(2026, 3, 5, 8)


def test_a_window_within_one_day() -> None:
    afternoon = QuietHours(start_hour=12, end_hour=14)
    assert next_allowed(_local(2026, 3, 4, 13, 10), PHOENIX, afternoon) == _local(2026, 3, 4, 14)
    assert next_allowed(_local(2026, 3, 4, 11, 10), PHOENIX, afternoon) == _local(2026, 3, 4, 11, 10)


def test_quiet_hours_are_read_in_the_patients_time_zone() -> None:
    # 21:30 in Phoenix is 00:30 in New York (March, before DST): quiet in both, ending at their own 8.
    now = _local(2026, 3, 4, 21, 30)
    assert next_allowed(now, NEW_YORK, EVENINGS) == _local(2026, 3, 5, 8, tz=NEW_YORK)
    # 06:00 in Phoenix is 08:00 in New York: not quiet there.
    morning = _local(2026, 3, 5, 6)
    assert next_allowed(morning, NEW_YORK, EVENINGS) == morning


def test_no_quiet_hours_never_wait() -> None:
    now = _local(2026, 3, 4, 2)
    assert next_allowed(now, PHOENIX, None) == now


def test_on_the_night_clocks_go_forward_the_wait_ends_at_local_eight() -> None:
    # 8 March 2026, New York: 02:00 EST becomes 03:00 EDT, so the night is an hour shorter.
    released = next_allowed(_local(2026, 3, 7, 22, tz=NEW_YORK), NEW_YORK, EVENINGS)
    assert released == datetime(2026, 3, 8, 12, tzinfo=UTC)  # 08:00 EDT


def test_an_end_hour_the_clocks_skip_ends_when_they_jump() -> None:
    quiet = QuietHours(start_hour=22, end_hour=2)
    released = next_allowed(_local(2026, 3, 8, 1, 30, tz=NEW_YORK), NEW_YORK, quiet)
    assert released == datetime(2026, 3, 8, 7, tzinfo=UTC)  # 03:00 EDT, the moment 02:00 EST would have been


def test_an_end_hour_that_happens_twice_ends_at_the_first() -> None:
    # 1 November 2026, New York: 02:00 EDT becomes 01:00 EST, so 01:xx happens twice.
    quiet = QuietHours(start_hour=22, end_hour=1)
    released = next_allowed(_local(2026, 11, 1, 0, 30, tz=NEW_YORK), NEW_YORK, quiet)
    assert released == datetime(2026, 11, 1, 5, tzinfo=UTC)  # 01:00 EDT


def test_empty_quiet_hours_are_refused() -> None:
    with pytest.raises(ValidationError):
        QuietHours(start_hour=8, end_hour=8)


@given(now=instants_st, tz=time_zones_st, hours=quiet_st)
def test_the_message_goes_at_the_first_moment_out_of_quiet_hours(
    now: datetime, tz: str, hours: tuple[int, int]
) -> None:
    quiet = QuietHours(start_hour=hours[0], end_hour=hours[1])
    released = next_allowed(now, tz, quiet)
    if not _quiet_at(now, tz, quiet):
        assert released == now
        return
    assert now < released <= now + timedelta(hours=24)
    assert not _quiet_at(released, tz, quiet)
    # Nothing earlier would do: every minute before it is still quiet.
    moment = now
    while moment < released:
        assert _quiet_at(moment, tz, quiet)
        moment += timedelta(minutes=15)
    assert _quiet_at(released - timedelta(seconds=1), tz, quiet)
