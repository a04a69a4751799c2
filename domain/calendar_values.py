"""The values a clinic's calendar file holds, as its staff write them (domain/clinic_calendar.py reads the
file): weekdays (`mon-fri`), local clock times, durations, phone numbers, ids and kinds; each refused in plain
words."""

import re
from datetime import datetime, time, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, TypeAdapter, ValidationError

from domain.phones import e164

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _days(value: Any) -> tuple[int, ...]:
    """`mon`, `mon-fri` or `sat,sun` (any case): the weekdays, Monday = 0."""
    if not isinstance(value, str):
        raise ValueError("days are text: mon, mon-fri or sat,sun")
    days: list[int] = []
    for part in value.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"{value!r} is not a day or a range of days (mon, tue, ..., sun; mon-fri)")
        start, end = DAYS.index(first), DAYS.index(last or first)
        if end < start:
            raise ValueError(f"{part!r} runs backwards: write the earlier day first")
        days.extend(range(start, end + 1))
    if len(set(days)) != len(days):
        raise ValueError(f"{value!r} names a day twice")
    return tuple(days)


_HH_MM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])\Z")


def _clock(text: str) -> time:
    match = _HH_MM.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a time of day as HH:MM (24-hour clock)")
    return time(int(match[1]), int(match[2]))


def _local_time(value: Any) -> time:
    if not isinstance(value, str):
        raise ValueError("a time of day is text, HH:MM")
    return _clock(value)


def _window(value: Any) -> tuple[time, time]:
    """`08:00-17:00`: open from, closed at."""
    if not isinstance(value, str) or value.count("-") != 1:
        raise ValueError(f"{value!r} is not opening hours as HH:MM-HH:MM")
    opens, closes = (_clock(part) for part in value.split("-"))
    if opens >= closes:
        raise ValueError(f"{value!r} closes before it opens")
    return opens, closes


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


_TIMEDELTA = TypeAdapter(timedelta)


def _duration(value: Any) -> timedelta:
    """ISO 8601 as the clinic policy's durations (`PT45M`, `PT1H30M`, `P3D`), in whole minutes."""
    if not isinstance(value, str) or not value.startswith("P"):
        raise ValueError(f"{value!r} is not an ISO 8601 duration such as PT45M, PT1H30M or P1D")
    try:
        duration = _TIMEDELTA.validate_python(value)
    except ValidationError:
        raise ValueError(f"{value!r} is not an ISO 8601 duration such as PT45M, PT1H30M or P1D") from None
    if duration < timedelta(0) or duration % timedelta(minutes=1):
        raise ValueError(f"{value!r} is not a whole number of minutes, zero or more")
    return duration


def _local_datetime(value: Any) -> datetime:
    """`2026-11-02 08:00` or `2026-11-02T08:00`: the clinic's local time, so no offset."""
    if not isinstance(value, str):
        raise ValueError("a moment is text: YYYY-MM-DD HH:MM, the clinic's local time")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a moment as YYYY-MM-DD HH:MM") from None
    if moment.tzinfo is not None:
        raise ValueError(f"{value!r} has an offset: give the clinic's local time without one")
    return moment


def phone(value: str) -> str:
    number = e164(value)
    if number is None:
        raise ValueError(f"{value!r} is not a phone number with its country code, e.g. +16025550111")
    return number


Days = Annotated[tuple[int, ...], BeforeValidator(_days)]
Window = Annotated[tuple[time, time], BeforeValidator(_window)]
Windows = Annotated[list[Window], BeforeValidator(_one_or_many), Field(min_length=1)]
WeeklyHours = dict[Days, Windows]
Duration = Annotated[timedelta, BeforeValidator(_duration)]
LocalTime = Annotated[time, BeforeValidator(_local_time)]
LocalDateTime = Annotated[datetime, BeforeValidator(_local_datetime)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _matching(pattern: str, what: str) -> AfterValidator:
    """A plain-words refusal of text that does not match `pattern`."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


ResourceId = Annotated[
    str, _matching(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$", "an id: up to 64 letters, digits and . _ : -")
]
ResourceKind = Annotated[
    str, _matching(r"^[a-z][a-z0-9_]{0,39}$", "a kind: up to 40 lowercase letters, digits and _")
]
Site = Annotated[
    str, _matching(r"^[A-Za-z0-9._:\-]{1,128}$", "a site: up to 128 letters, digits and . _ : -")
]
