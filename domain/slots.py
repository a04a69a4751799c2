"""Finding the first slot that fits an appointment kind in the clinic's calendar: a pure function."""

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict


class KindSpec(BaseModel):
    """How long an appointment kind takes, what it needs, and when it may start."""

    model_config = ConfigDict(frozen=True)

    duration: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    resource_kinds: tuple[str, ...]
    lead_time: timedelta = timedelta(0)
    latest_start_local: time | None = None


class WeeklyWindow(BaseModel):
    """A resource is open on `weekday` (Monday = 0) from `start` to `end`, in the clinic's local time."""

    model_config = ConfigDict(frozen=True)

    weekday: int
    start: time
    end: time


class ResourceCalendar(BaseModel):
    """One resource's weekly opening hours and the ranges it cannot take: bookings (buffers included) and
    closures (holidays, blocked time)."""

    model_config = ConfigDict(frozen=True)

    resource_id: str
    kind: str
    weekly: tuple[WeeklyWindow, ...]
    busy: tuple[tuple[datetime, datetime], ...] = ()

    def is_open(self, start: datetime, end: datetime, tz: ZoneInfo) -> bool:
        """Whether [start, end) lies inside one opening window of a single local day."""
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        if local_start.date() != local_end.date():
            return False
        return any(
            w.weekday == local_start.weekday() and w.start <= local_start.time() and local_end.time() <= w.end
            for w in self.weekly
        )

    def is_free(self, start: datetime, end: datetime) -> bool:
        return all(end <= b_start or start >= b_end for b_start, b_end in self.busy)


class Slot(BaseModel):
    model_config = ConfigDict(frozen=True)

    starts_at: datetime
    ends_at: datetime
    resource_ids: tuple[str, ...]

    def occupied(self, spec: KindSpec) -> tuple[datetime, datetime]:
        """The range the slot takes from each resource, buffers included."""
        return self.starts_at - spec.buffer_before, self.ends_at + spec.buffer_after


def first_fitting_slot(
    spec: KindSpec,
    resources: Sequence[ResourceCalendar],
    not_before: datetime,
    tz: ZoneInfo,
    *,
    horizon: timedelta = timedelta(days=60),
    step: timedelta = timedelta(minutes=15),
) -> Slot | None:
    """The earliest slot, on the `step` grid of the clinic's local day, starting at or after
    `not_before + lead_time`, inside each resource's opening hours, before `latest_start_local`, with one free
    resource of each required kind for the whole occupied range. None when nothing fits within `horizon`."""
    earliest = not_before + spec.lead_time
    for start in _grid(earliest, earliest + horizon, tz, step):
        if spec.latest_start_local is not None and start.astimezone(tz).time() > spec.latest_start_local:
            continue
        end = start + spec.duration
        busy_from, busy_to = start - spec.buffer_before, end + spec.buffer_after
        chosen: list[str] = []
        for kind in spec.resource_kinds:
            match = next(
                (
                    r
                    for r in resources
                    if r.kind == kind
                    and r.resource_id not in chosen
                    and r.is_open(start, end, tz)
                    and r.is_free(busy_from, busy_to)
                ),
                None,
            )
            if match is None:
                break
            chosen.append(match.resource_id)
        else:
            return Slot(starts_at=start, ends_at=end, resource_ids=tuple(chosen))
    return None


def _grid(earliest: datetime, until: datetime, tz: ZoneInfo, step: timedelta) -> Iterator[datetime]:
    """Grid points aligned to local midnight, from the first one at or after `earliest`, in UTC so that
    adding a duration counts real time even across a clock change."""
    local = earliest.astimezone(tz)
    cursor = datetime.combine(local.date(), time(0), tzinfo=tz)
    while cursor < earliest:
        cursor += step
    while cursor < until:
        yield cursor.astimezone(UTC)
        cursor += step
