"""A clinic's calendar as a file gives it (examples/calendar.yaml documents the format): the clinic, its
resources and their weekly hours, its appointment kinds, holidays and blocked time.

Pure: `validate_calendar` turns parsed data into a `ClinicCalendar`, or lists every problem with where it is
(a path of keys and 0-based item numbers, which admin/calendar_file.py turns into file lines);
db/calendar_sync.py writes a valid one. Times are the clinic's local time, as its staff read them.
"""

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from domain.appointments import AppointmentKind
from domain.calendar_values import (
    DAYS,
    Duration,
    LocalDateTime,
    LocalTime,
    ResourceId,
    ResourceKind,
    Site,
    Text,
    WeeklyHours,
    phone,
)
from domain.referral import check_timezone

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class CalendarProblem:
    loc: Loc
    """Where: keys and 0-based item numbers from the top, e.g. ("resources", 2, "hours", "mon")."""
    message: str


class CalendarInvalid(Exception):
    def __init__(self, problems: Sequence[CalendarProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the calendar")
        self.problems = list(problems)


class _FileModel(BaseModel):
    # A misspelt key is a mistake to show, never a setting silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _weekly(hours: WeeklyHours | None) -> WeeklyHours | None:
    """Each day in one key only, and a day's windows apart."""
    if hours is None:
        return None
    seen = Counter(day for days in hours for day in days)
    twice = [DAYS[day] for day, count in sorted(seen.items()) if count > 1]
    if twice:
        raise ValueError(f"{', '.join(twice)} given in more than one key")
    for windows in hours.values():
        ordered = sorted(windows)
        for (_, closes), (opens, _) in itertools.pairwise(ordered):
            if opens < closes:
                raise ValueError("two opening hours of one day overlap")
    return hours


class Clinic(_FileModel):
    site: Site
    name: Text
    timezone: str
    address: Text | None = None
    phone: str | None = None
    """What HELP replies give patients (E.164); none: they give none."""

    _tz = field_validator("timezone")(check_timezone)

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return None if value is None else phone(value)


class Resource(_FileModel):
    id: ResourceId
    kind: ResourceKind
    name: Text
    hours: WeeklyHours | None = None
    """Its own weekly hours; none: the clinic's `hours`."""

    _hours = field_validator("hours")(_weekly)


class KindRule(_FileModel):
    duration: Duration
    buffer_before: Duration = timedelta(0)
    buffer_after: Duration = timedelta(0)
    needs: Annotated[list[ResourceKind], Field(min_length=1)]
    """One resource of each of these kinds, free for the whole appointment and its buffers."""
    lead_time: Duration = timedelta(0)
    latest_start: LocalTime | None = None

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("an appointment lasts some minutes")
        return value


class Holiday(_FileModel):
    date: date
    name: Text


class BlockedTime(_FileModel):
    resource: ResourceId | None = None
    """The resource blocked; none: the whole clinic."""
    starts: LocalDateTime = Field(alias="from")
    until: LocalDateTime
    reason: Text


class ClinicCalendar(_FileModel):
    clinic: Clinic
    hours: WeeklyHours | None = None
    resources: Annotated[list[Resource], Field(min_length=1)]
    appointment_kinds: dict[AppointmentKind, KindRule]
    holidays: list[Holiday] = []
    blocked: list[BlockedTime] = []

    _hours = field_validator("hours")(_weekly)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.clinic.timezone)

    def weekly_hours(self, resource: Resource) -> frozenset[tuple[int, time, time]]:
        """(weekday, opens, closes) rows of the resource's opening hours."""
        hours = resource.hours if resource.hours is not None else self.hours or {}
        return frozenset(
            (day, opens, closes)
            for days, windows in hours.items()
            for day in days
            for opens, closes in windows
        )

    def closures(self) -> frozenset["Closure"]:
        """Holidays and blocked time as ranges in UTC, converted in the clinic's time zone."""
        zone = self.zone

        def utc(moment: datetime) -> datetime:
            return moment.replace(tzinfo=zone).astimezone(UTC)

        holidays = {
            Closure(
                "holiday",
                None,
                utc(datetime.combine(h.date, time(0))),
                utc(datetime.combine(h.date + timedelta(days=1), time(0))),
                h.name,
            )
            for h in self.holidays
        }
        blocked = {
            Closure("blocked", b.resource, utc(b.starts), utc(b.until), b.reason) for b in self.blocked
        }
        return frozenset(holidays | blocked)


@dataclass(frozen=True)
class Closure:
    kind: Literal["holiday", "blocked"]
    resource_id: str | None
    starts_at: datetime
    ends_at: datetime
    reason: str


def validate_calendar(data: object) -> ClinicCalendar:
    """The calendar, or CalendarInvalid with every problem found: the file's shape first, then what refers
    to what (each kind's resources, the blocked resources, days given twice)."""
    try:
        calendar = ClinicCalendar.model_validate(data)
    except ValidationError as err:
        raise CalendarInvalid([_problem(e) for e in err.errors()]) from None
    problems = _cross_check(calendar)
    if problems:
        raise CalendarInvalid(problems)
    return calendar


def _problem(error: Any) -> CalendarProblem:
    message = str(error["msg"]).removeprefix("Value error, ")
    loc = tuple(error["loc"])
    if loc and loc[-1] == "[key]":  # a key of a mapping was refused: point at the key
        loc = loc[:-1]
    return CalendarProblem(loc, message)


def _cross_check(calendar: ClinicCalendar) -> list[CalendarProblem]:
    problems: list[CalendarProblem] = []
    ids = Counter(r.id for r in calendar.resources)
    for n, resource in enumerate(calendar.resources):
        if ids[resource.id] > 1:
            problems.append(
                CalendarProblem(("resources", n, "id"), f"{resource.id!r} is given more than once")
            )
        if resource.hours is None and not calendar.hours:
            problems.append(
                CalendarProblem(("resources", n), "no hours: give the resource's, or the clinic's `hours`")
            )
    kinds_present = Counter(r.kind for r in calendar.resources)
    missing = [k.value for k in AppointmentKind if k not in calendar.appointment_kinds]
    if missing:
        problems.append(
            CalendarProblem(
                ("appointment_kinds",), f"the pathway books every kind: {', '.join(missing)} missing"
            )
        )
    for kind, rule in calendar.appointment_kinds.items():
        # A kind needed twice takes two resources of it (two physicians, say).
        for needed, count in Counter(rule.needs).items():
            if kinds_present[needed] < count:
                n = rule.needs.index(needed)
                problems.append(
                    CalendarProblem(
                        ("appointment_kinds", kind.value, "needs", n),
                        f"needs {count} resource(s) of kind {needed!r}; the file has {kinds_present[needed]}",
                    )
                )
    days = Counter(h.date for h in calendar.holidays)
    for n, holiday in enumerate(calendar.holidays):
        if days[holiday.date] > 1:
            problems.append(
                CalendarProblem(("holidays", n, "date"), f"{holiday.date} is given more than once")
            )
    blocks = Counter((b.resource, b.starts, b.until) for b in calendar.blocked)
    for n, block in enumerate(calendar.blocked):
        if block.resource is not None and block.resource not in ids:
            problems.append(
                CalendarProblem(
                    ("blocked", n, "resource"), f"{block.resource!r} is not a resource of the file"
                )
            )
        if block.until <= block.starts:
            problems.append(CalendarProblem(("blocked", n, "until"), "ends before it starts"))
        if blocks[(block.resource, block.starts, block.until)] > 1:
            problems.append(CalendarProblem(("blocked", n), "the same blocked time is given more than once"))
    return problems
