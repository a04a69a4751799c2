"""When patients are reminded and followed up, in their own time zone."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from domain.check_ins import CheckInName
from domain.config import PathwayConfig
from domain.quiet_hours import next_allowed


class Reminder(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    at: datetime


def reminder_times(
    starts_at: datetime, patient_tz: str, config: PathwayConfig, now: datetime
) -> list[Reminder]:
    """The day-before reminder at the configured local hour and the one shortly before, in time order;
    past ones dropped.

    One that falls in quiet hours moves to their end, unless that is not before the appointment: then it is
    dropped. Two that land on the same moment are one, the later (shortly before)."""
    tz = ZoneInfo(patient_tz)
    local_start = starts_at.astimezone(tz)
    day_before = datetime.combine(
        local_start.date() - timedelta(days=1), time(config.reminder_local_hour), tzinfo=tz
    )
    moments = {
        "day_before": day_before.astimezone(UTC),
        "shortly_before": starts_at.astimezone(UTC) - config.reminder_before,
    }
    by_moment: dict[datetime, Reminder] = {}
    for label, at in moments.items():  # in label order: the later label wins a shared moment
        moved = next_allowed(at, patient_tz, config.quiet_hours)
        by_moment[moved] = Reminder(label=label, at=moved)
    return sorted((r for r in by_moment.values() if now < r.at < starts_at), key=lambda r: r.at)


def reminders_to_send(
    due: Sequence[Reminder], *, now: datetime, starts_at: datetime, missed_after: timedelta
) -> list[Reminder]:
    """Of the reminders due at `now` (in time order), those to send: the latest alone, since an earlier one
    would go out with it saying the same; and only within `missed_after` of its moment and before the
    appointment starts. The rest have missed their moment (the worker was down)."""
    if not due or now - due[-1].at > missed_after or now >= starts_at:
        return []
    return [due[-1]]


def follow_up_time(procedure_done_at: datetime, patient_tz: str, config: PathwayConfig) -> datetime:
    """The next day at the configured local hour (moved to the end of quiet hours if it falls in them); a
    fixed delay when waits do not follow the calendar."""
    if not config.deadlines_follow_calendar:
        return procedure_done_at + config.follow_up_delay
    tz = ZoneInfo(patient_tz)
    next_day = procedure_done_at.astimezone(tz).date() + timedelta(days=1)
    at = datetime.combine(next_day, time(config.follow_up_local_hour), tzinfo=tz)
    return next_allowed(at, patient_tz, config.quiet_hours)


def outcome_schedule(
    procedure_done_at: datetime, outcomes_from: datetime, patient_tz: str, config: PathwayConfig
) -> list[tuple[CheckInName, datetime]]:
    """When each outcome check-in is sent: on the day its interval after the procedure, at the follow-up's
    local hour (moved to the end of quiet hours if it falls in them); from `outcomes_from` (the start of the
    outcomes stage) when waits do not follow the calendar (the demo)."""
    if not config.deadlines_follow_calendar:
        return [(name, outcomes_from + after) for name, after in config.outcome_check_ins]
    tz = ZoneInfo(patient_tz)
    day = procedure_done_at.astimezone(tz).date()
    hour = time(config.follow_up_local_hour)
    return [
        (name, next_allowed(datetime.combine(day + after, hour, tzinfo=tz), patient_tz, config.quiet_hours))
        for name, after in config.outcome_check_ins
    ]


def local_date(at: datetime, tz_name: str) -> date:
    """The calendar date at `at` in a time zone."""
    return at.astimezone(ZoneInfo(tz_name)).date()


def local_text(at: datetime, tz_name: str) -> str:
    """A time as people read it in a time zone, e.g. 'Tue 25 Nov 09:30 MST'."""
    return at.astimezone(ZoneInfo(tz_name)).strftime("%a %d %b %H:%M %Z")
