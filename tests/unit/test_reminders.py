"""When patients are reminded and followed up, in their own time zone."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.config import CLINICAL, DEMO, PathwayConfig
from domain.quiet_hours import QuietHours
from domain.reminders import Reminder, follow_up_time, local_text, reminder_times, reminders_to_send

PHOENIX = "America/Phoenix"
TIMEZONES = (
    "America/Phoenix",
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "UTC",
)
tz_st = st.sampled_from(TIMEZONES)
instant_st = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


def at(tz: str, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz))


def by_label(reminders: list[Reminder]) -> dict[str, datetime]:
    return {r.label: r.at for r in reminders}


# --- reminders ---------------------------------------------------------------------------------------------


def test_both_reminders_for_a_morning_appointment() -> None:
    starts_at = at(PHOENIX, 2025, 11, 25, 9, 0)  # Tuesday 09:00 MST
    reminders = reminder_times(starts_at, PHOENIX, CLINICAL, now=at(PHOENIX, 2025, 11, 20, 12, 0))
    assert [r.label for r in reminders] == ["day_before", "shortly_before"]
    assert reminders[0].at == at(PHOENIX, 2025, 11, 24, 17, 0)
    assert reminders[1].at == at(PHOENIX, 2025, 11, 25, 7, 0)


def test_a_shortly_before_reminder_earlier_than_the_day_before_hour_comes_first() -> None:
    starts_at = at(PHOENIX, 2025, 11, 25, 0, 30)  # just after midnight; the day-before hour is 23:00
    config = CLINICAL.model_copy(update={"reminder_local_hour": 23})
    reminders = reminder_times(starts_at, PHOENIX, config, now=at(PHOENIX, 2025, 11, 20, 12, 0))
    assert [r.label for r in reminders] == ["shortly_before", "day_before"]


def test_day_before_reminder_in_the_patients_time_zone() -> None:
    starts_at = at(PHOENIX, 2025, 7, 15, 9, 0)  # 16:00 UTC; 12:00 EDT in New York
    reminders = by_label(
        reminder_times(starts_at, "America/New_York", CLINICAL, now=at(PHOENIX, 2025, 7, 1, 0, 0))
    )
    assert reminders["day_before"] == at("America/New_York", 2025, 7, 14, 17, 0)
    assert reminders["day_before"] == datetime(2025, 7, 14, 21, 0, tzinfo=UTC)


def test_day_before_uses_the_patients_local_date() -> None:
    # 09:00 Tuesday in Phoenix is 01:00 Wednesday in Tokyo: the patient's "day before" is Tuesday.
    starts_at = at(PHOENIX, 2025, 11, 25, 9, 0)
    reminders = by_label(
        reminder_times(starts_at, "Asia/Tokyo", CLINICAL, now=at(PHOENIX, 2025, 11, 1, 0, 0))
    )
    assert reminders["day_before"] == at("Asia/Tokyo", 2025, 11, 25, 17, 0)
    assert reminders["day_before"] < starts_at


def test_configured_hour_is_used() -> None:
    config = CLINICAL.model_copy(update={"reminder_local_hour": 8})
    starts_at = at(PHOENIX, 2025, 11, 25, 9, 0)
    reminders = by_label(reminder_times(starts_at, PHOENIX, config, now=at(PHOENIX, 2025, 11, 1, 0, 0)))
    assert reminders["day_before"] == at(PHOENIX, 2025, 11, 24, 8, 0)


def test_past_day_before_reminder_is_dropped() -> None:
    starts_at = at(PHOENIX, 2025, 11, 25, 9, 0)
    reminders = reminder_times(starts_at, PHOENIX, CLINICAL, now=at(PHOENIX, 2025, 11, 24, 18, 0))
    assert reminders == [Reminder(label="shortly_before", at=at(PHOENIX, 2025, 11, 25, 7, 0))]


def test_reminder_exactly_now_is_dropped() -> None:
    starts_at = at(PHOENIX, 2025, 11, 25, 9, 0)
    reminders = reminder_times(starts_at, PHOENIX, CLINICAL, now=at(PHOENIX, 2025, 11, 24, 17, 0))
    assert [r.label for r in reminders] == ["shortly_before"]


def test_all_reminders_past() -> None:
    starts_at = at(PHOENIX, 2025, 11, 25, 9, 0)
    assert reminder_times(starts_at, PHOENIX, CLINICAL, now=at(PHOENIX, 2025, 11, 25, 7, 30)) == []
    assert reminder_times(starts_at, PHOENIX, CLINICAL, now=at(PHOENIX, 2025, 11, 26, 0, 0)) == []


def test_demo_shortly_before_is_seconds() -> None:
    starts_at = datetime(2025, 11, 25, 16, 0, tzinfo=UTC)
    now = starts_at - timedelta(seconds=30)
    assert reminder_times(starts_at, PHOENIX, DEMO, now) == [
        Reminder(label="shortly_before", at=starts_at - timedelta(seconds=10))
    ]


@given(
    starts_at=instant_st,
    tz=tz_st,
    lead=st.integers(min_value=0, max_value=10 * 24 * 60),
    hour=st.integers(0, 23),
)
def test_reminder_properties(starts_at: datetime, tz: str, lead: int, hour: int) -> None:
    config = CLINICAL.model_copy(update={"reminder_local_hour": hour})
    now = starts_at - timedelta(minutes=lead)
    reminders = reminder_times(starts_at, tz, config, now)
    labels = [r.label for r in reminders]
    assert len(set(labels)) == len(labels) and set(labels) <= {"day_before", "shortly_before"}
    assert [r.at for r in reminders] == sorted(r.at for r in reminders)  # the workflow waits for each in turn
    for reminder in reminders:
        assert now < reminder.at < starts_at
    found = by_label(reminders)
    if "day_before" in found:
        local = found["day_before"].astimezone(ZoneInfo(tz))
        assert local.date() == starts_at.astimezone(ZoneInfo(tz)).date() - timedelta(days=1)
        # The configured hour, unless a DST gap swallows it (then the clock reads an hour later).
        assert (local.hour, local.minute) in ((hour, 0), ((hour + 1) % 24, 0), (hour, 30))
    if "shortly_before" in found:
        assert found["shortly_before"] == starts_at - config.reminder_before
    # Nothing is dropped that is still ahead.
    if now < starts_at - config.reminder_before:
        assert "shortly_before" in found


@given(starts_at=instant_st, tz=tz_st, now=instant_st)
def test_reminders_are_always_in_the_future_and_before_the_appointment(
    starts_at: datetime, tz: str, now: datetime
) -> None:
    for reminder in reminder_times(starts_at, tz, CLINICAL, now):
        assert now < reminder.at < starts_at


@given(starts_at=instant_st, tz=tz_st, earlier=instant_st, later=instant_st)
def test_later_now_never_adds_reminders(
    starts_at: datetime, tz: str, earlier: datetime, later: datetime
) -> None:
    earlier, later = min(earlier, later), max(earlier, later)
    before = {r.label for r in reminder_times(starts_at, tz, CLINICAL, earlier)}
    after = {r.label for r in reminder_times(starts_at, tz, CLINICAL, later)}
    assert after <= before


@given(starts_at=instant_st, tz=tz_st)
def test_reminders_do_not_depend_on_how_the_start_is_written(starts_at: datetime, tz: str) -> None:
    now = starts_at - timedelta(days=5)
    local_start = starts_at.astimezone(ZoneInfo(PHOENIX))
    assert reminder_times(starts_at, tz, CLINICAL, now) == reminder_times(local_start, tz, CLINICAL, now)


# --- quiet hours -------------------------------------------------------------------------------------------

EVENINGS = QuietHours(start_hour=21, end_hour=8)
QUIET = CLINICAL.model_copy(update={"quiet_hours": EVENINGS})


def test_a_day_before_reminder_in_quiet_hours_moves_to_their_end() -> None:
    config = QUIET.model_copy(update={"reminder_local_hour": 22})
    starts_at = at(PHOENIX, 2025, 11, 25, 14, 0)
    reminders = by_label(reminder_times(starts_at, PHOENIX, config, now=at(PHOENIX, 2025, 11, 20, 12, 0)))
    assert reminders["day_before"] == at(PHOENIX, 2025, 11, 25, 8, 0)  # the morning of the appointment
    assert reminders["shortly_before"] == at(PHOENIX, 2025, 11, 25, 12, 0)


def test_a_shortly_before_reminder_in_quiet_hours_moves_to_their_end_if_still_before_the_appointment() -> (
    None
):
    starts_at = at(PHOENIX, 2025, 11, 25, 9, 0)  # shortly before is 07:00: quiet
    reminders = reminder_times(starts_at, PHOENIX, QUIET, now=at(PHOENIX, 2025, 11, 20, 12, 0))
    assert [(r.label, r.at) for r in reminders] == [
        ("day_before", at(PHOENIX, 2025, 11, 24, 17, 0)),
        ("shortly_before", at(PHOENIX, 2025, 11, 25, 8, 0)),
    ]


def test_a_reminder_that_would_move_past_its_appointment_is_dropped() -> None:
    starts_at = at(PHOENIX, 2025, 11, 25, 8, 0)  # shortly before is 06:00; quiet hours end as it starts
    reminders = reminder_times(starts_at, PHOENIX, QUIET, now=at(PHOENIX, 2025, 11, 20, 12, 0))
    assert [r.label for r in reminders] == ["day_before"]


def test_two_reminders_moved_to_the_same_moment_are_one() -> None:
    config = QUIET.model_copy(update={"reminder_local_hour": 23})
    starts_at = at(PHOENIX, 2025, 11, 25, 9, 30)  # day before 23:00 and shortly before 07:30: both to 08:00
    reminders = reminder_times(starts_at, PHOENIX, config, now=at(PHOENIX, 2025, 11, 20, 12, 0))
    assert [(r.label, r.at) for r in reminders] == [("shortly_before", at(PHOENIX, 2025, 11, 25, 8, 0))]


@given(starts_at=instant_st, tz=tz_st, now=instant_st, hour=st.integers(0, 23))
def test_no_reminder_falls_in_quiet_hours(starts_at: datetime, tz: str, now: datetime, hour: int) -> None:
    config = QUIET.model_copy(update={"reminder_local_hour": hour})
    reminders = reminder_times(starts_at, tz, config, now)
    assert len({r.at for r in reminders}) == len(reminders)
    for reminder in reminders:
        assert now < reminder.at < starts_at
        assert not EVENINGS.contain(reminder.at.astimezone(ZoneInfo(tz)).hour)


def test_a_follow_up_hour_in_quiet_hours_moves_to_their_end() -> None:
    config = QUIET.model_copy(update={"follow_up_local_hour": 6})
    done = at(PHOENIX, 2025, 11, 25, 11, 0)
    assert follow_up_time(done, PHOENIX, config) == at(PHOENIX, 2025, 11, 26, 8, 0)


# --- follow-up ---------------------------------------------------------------------------------------------


def test_follow_up_next_day_at_ten_local() -> None:
    done = at(PHOENIX, 2025, 11, 25, 14, 30)
    assert follow_up_time(done, PHOENIX, CLINICAL) == at(PHOENIX, 2025, 11, 26, 10, 0)


def test_follow_up_after_late_evening_procedure() -> None:
    done = at(PHOENIX, 2025, 11, 25, 23, 30)
    assert follow_up_time(done, PHOENIX, CLINICAL) == at(PHOENIX, 2025, 11, 26, 10, 0)


def test_follow_up_in_the_patients_time_zone() -> None:
    # 17:30 Tuesday in Phoenix is 00:30 Wednesday UTC+0 in London: the London patient is called Thursday.
    done = at(PHOENIX, 2025, 11, 25, 17, 30)
    assert follow_up_time(done, "Europe/London", CLINICAL) == at("Europe/London", 2025, 11, 27, 10, 0)
    assert follow_up_time(done, "America/New_York", CLINICAL) == at("America/New_York", 2025, 11, 26, 10, 0)


def test_follow_up_across_a_dst_change() -> None:
    done = at("America/New_York", 2025, 3, 8, 15, 0)  # clocks go forward on 9 March
    follow_up = follow_up_time(done, "America/New_York", CLINICAL)
    assert follow_up == at("America/New_York", 2025, 3, 9, 10, 0)
    assert follow_up.astimezone(UTC) == datetime(2025, 3, 9, 14, 0, tzinfo=UTC)


def test_follow_up_uses_the_configured_hour() -> None:
    config = CLINICAL.model_copy(update={"follow_up_local_hour": 8})
    done = at(PHOENIX, 2025, 11, 25, 9, 0)
    assert follow_up_time(done, PHOENIX, config) == at(PHOENIX, 2025, 11, 26, 8, 0)


def test_demo_follow_up_after_the_delay() -> None:
    done = datetime(2025, 11, 25, 16, 0, 0, tzinfo=UTC)
    assert follow_up_time(done, PHOENIX, DEMO) == done + DEMO.follow_up_delay
    assert follow_up_time(done, PHOENIX, DEMO) == done + timedelta(seconds=5)


@pytest.mark.parametrize("tz", TIMEZONES)
def test_demo_follow_up_ignores_the_time_zone(tz: str) -> None:
    done = datetime(2025, 11, 25, 16, 0, 0, tzinfo=UTC)
    assert follow_up_time(done, tz, DEMO) == done + timedelta(seconds=5)


@given(done=instant_st, tz=tz_st)
def test_clinical_follow_up_properties(done: datetime, tz: str) -> None:
    follow_up = follow_up_time(done, tz, CLINICAL)
    local = follow_up.astimezone(ZoneInfo(tz))
    assert local.date() == done.astimezone(ZoneInfo(tz)).date() + timedelta(days=1)
    assert local.time() == time(10, 0)
    assert timedelta(hours=9) <= follow_up - done <= timedelta(hours=35)


@given(done=instant_st, tz=tz_st, delay_s=st.integers(min_value=1, max_value=86_400))
def test_follow_up_delay_when_not_on_the_calendar(done: datetime, tz: str, delay_s: int) -> None:
    config = PathwayConfig(deadlines_follow_calendar=False, follow_up_delay=timedelta(seconds=delay_s))
    assert follow_up_time(done, tz, config) == done + timedelta(seconds=delay_s)


def test_local_text() -> None:
    assert local_text(datetime(2025, 11, 25, 16, 30, tzinfo=UTC), PHOENIX) == "Tue 25 Nov 09:30 MST"


NOW = datetime(2025, 11, 25, 20, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
MISSED_AFTER = CLINICAL.reminder_missed_after  # 30 min


def _due(*minutes_before_now: int) -> list[Reminder]:
    """Reminders due at NOW, in time order, each the given minutes late."""
    return [Reminder(label=f"r{i}", at=NOW - timedelta(minutes=m)) for i, m in enumerate(minutes_before_now)]


def test_of_two_reminders_due_together_only_the_later_is_sent() -> None:
    due = _due(20, 5)
    sent = reminders_to_send(due, now=NOW, starts_at=NOW + timedelta(hours=1), missed_after=MISSED_AFTER)
    assert sent == [due[1]]


def test_a_reminder_late_by_more_than_missed_after_is_not_sent() -> None:
    assert (
        reminders_to_send(_due(31), now=NOW, starts_at=NOW + timedelta(hours=1), missed_after=MISSED_AFTER)
        == []
    )


def test_a_reminder_on_time_but_after_its_appointment_started_is_not_sent() -> None:
    due = _due(10)
    assert (
        reminders_to_send(due, now=NOW, starts_at=NOW - timedelta(minutes=1), missed_after=MISSED_AFTER) == []
    )
    assert reminders_to_send(due, now=NOW, starts_at=NOW, missed_after=MISSED_AFTER) == []
    assert reminders_to_send(due, now=NOW, starts_at=NOW + SECOND, missed_after=MISSED_AFTER) == due


@given(
    late=st.lists(st.integers(min_value=0, max_value=120), min_size=0, max_size=3),
    starts_in=st.integers(min_value=-60, max_value=60),
)
def test_at_most_one_reminder_goes_out_on_time_and_before_the_appointment(
    late: list[int], starts_in: int
) -> None:
    due = _due(*sorted(late, reverse=True))
    starts_at = NOW + timedelta(minutes=starts_in)
    sent = reminders_to_send(due, now=NOW, starts_at=starts_at, missed_after=MISSED_AFTER)
    assert len(sent) <= 1
    assert all(r is due[-1] and NOW - r.at <= MISSED_AFTER and starts_at > NOW for r in sent)
