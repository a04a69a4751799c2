"""Finding the first slot that fits an appointment kind in the clinic's calendar."""

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.slots import KindSpec, ResourceCalendar, Slot, WeeklyWindow, first_fitting_slot

PHOENIX = ZoneInfo("America/Phoenix")
STEP = timedelta(minutes=15)
HORIZON = timedelta(days=21)  # shorter than the default 60 days, to keep the property tests quick
WEEKDAYS = tuple(WeeklyWindow(weekday=d, start=time(8), end=time(17)) for d in range(5))
MONDAY_8AM = datetime(2025, 11, 24, 8, 0, tzinfo=PHOENIX)  # a Monday


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def resource(resource_id: str, kind: str, *busy: tuple[datetime, datetime]) -> ResourceCalendar:
    return ResourceCalendar(resource_id=resource_id, kind=kind, weekly=WEEKDAYS, busy=busy)


def overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


# --- concrete examples -------------------------------------------------------------------------------------


def test_first_slot_is_opening_time() -> None:
    spec = KindSpec(duration=minutes(30), resource_kinds=("physician",))
    slot = first_fitting_slot(spec, [resource("dr-a", "physician")], MONDAY_8AM - timedelta(hours=3), PHOENIX)
    assert slot == Slot(starts_at=MONDAY_8AM, ends_at=MONDAY_8AM + minutes(30), resource_ids=("dr-a",))


def test_start_is_rounded_up_to_the_grid() -> None:
    spec = KindSpec(duration=minutes(30), resource_kinds=("physician",))
    slot = first_fitting_slot(spec, [resource("dr-a", "physician")], MONDAY_8AM + minutes(7), PHOENIX)
    assert slot is not None
    assert slot.starts_at == MONDAY_8AM + minutes(15)


def test_lead_time_pushes_the_slot() -> None:
    spec = KindSpec(duration=minutes(30), resource_kinds=("physician",), lead_time=timedelta(days=2))
    slot = first_fitting_slot(spec, [resource("dr-a", "physician")], MONDAY_8AM, PHOENIX)
    assert slot is not None
    assert slot.starts_at == MONDAY_8AM + timedelta(days=2)


def test_weekend_is_skipped() -> None:
    spec = KindSpec(duration=minutes(30), resource_kinds=("physician",))
    friday_late = datetime(2025, 11, 28, 16, 45, tzinfo=PHOENIX)
    slot = first_fitting_slot(spec, [resource("dr-a", "physician")], friday_late, PHOENIX)
    assert slot is not None
    assert slot.starts_at == datetime(2025, 12, 1, 8, 0, tzinfo=PHOENIX)


def test_appointment_must_end_by_closing() -> None:
    spec = KindSpec(duration=minutes(60), resource_kinds=("physician",))
    slot = first_fitting_slot(
        spec, [resource("dr-a", "physician")], MONDAY_8AM + timedelta(hours=8, minutes=15), PHOENIX
    )
    assert slot is not None
    assert slot.starts_at == MONDAY_8AM + timedelta(days=1)


def test_latest_start_local_keeps_blocks_in_the_morning() -> None:
    spec = KindSpec(duration=minutes(30), resource_kinds=("physician",), latest_start_local=time(10, 0))
    slot = first_fitting_slot(
        spec, [resource("dr-a", "physician")], MONDAY_8AM + timedelta(hours=2, minutes=1), PHOENIX
    )
    assert slot is not None
    assert slot.starts_at == MONDAY_8AM + timedelta(days=1)
    at_ten = first_fitting_slot(
        spec, [resource("dr-a", "physician")], MONDAY_8AM + timedelta(hours=2), PHOENIX
    )
    assert at_ten is not None
    assert at_ten.starts_at == MONDAY_8AM + timedelta(hours=2)


def test_buffers_keep_clear_of_busy_ranges() -> None:
    spec = KindSpec(
        duration=minutes(30), buffer_before=minutes(15), buffer_after=minutes(15), resource_kinds=("room",)
    )
    busy = (MONDAY_8AM, MONDAY_8AM + minutes(60))
    slot = first_fitting_slot(spec, [resource("room-1", "room", busy)], MONDAY_8AM, PHOENIX)
    assert slot is not None
    assert slot.starts_at == MONDAY_8AM + minutes(75)
    assert slot.occupied(spec) == (MONDAY_8AM + minutes(60), MONDAY_8AM + minutes(120))


def test_busy_range_in_utc_is_respected() -> None:
    spec = KindSpec(duration=minutes(30), resource_kinds=("physician",))
    busy_utc = (MONDAY_8AM.astimezone(UTC), (MONDAY_8AM + minutes(30)).astimezone(UTC))
    slot = first_fitting_slot(spec, [resource("dr-a", "physician", busy_utc)], MONDAY_8AM, PHOENIX)
    assert slot is not None
    assert slot.starts_at == MONDAY_8AM + minutes(30)


def test_busy_resource_falls_back_to_another_of_its_kind() -> None:
    spec = KindSpec(duration=minutes(30), resource_kinds=("physician",))
    taken = (MONDAY_8AM, MONDAY_8AM + timedelta(hours=9))
    resources = [resource("dr-a", "physician", taken), resource("dr-b", "physician")]
    slot = first_fitting_slot(spec, resources, MONDAY_8AM, PHOENIX)
    assert slot == Slot(starts_at=MONDAY_8AM, ends_at=MONDAY_8AM + minutes(30), resource_ids=("dr-b",))


def test_two_resource_kinds_give_two_resources() -> None:
    spec = KindSpec(duration=minutes(30), resource_kinds=("surgeon", "procedure_room"))
    resources = [resource("room-1", "procedure_room"), resource("dr-s", "surgeon")]
    slot = first_fitting_slot(spec, resources, MONDAY_8AM, PHOENIX)
    assert slot is not None
    assert slot.resource_ids == ("dr-s", "room-1")


def test_two_of_the_same_kind_are_distinct() -> None:
    spec = KindSpec(duration=minutes(30), resource_kinds=("room", "room"))
    one_room = first_fitting_slot(spec, [resource("room-1", "room")], MONDAY_8AM, PHOENIX)
    assert one_room is None
    slot = first_fitting_slot(
        spec, [resource("room-1", "room"), resource("room-2", "room")], MONDAY_8AM, PHOENIX
    )
    assert slot is not None
    assert slot.resource_ids == ("room-1", "room-2")


def test_waits_until_both_resources_are_free_together() -> None:
    spec = KindSpec(duration=minutes(30), resource_kinds=("surgeon", "procedure_room"))
    resources = [
        resource("dr-s", "surgeon", (MONDAY_8AM, MONDAY_8AM + minutes(60))),
        resource("room-1", "procedure_room", (MONDAY_8AM + minutes(60), MONDAY_8AM + minutes(120))),
    ]
    slot = first_fitting_slot(spec, resources, MONDAY_8AM, PHOENIX)
    assert slot is not None
    assert slot.starts_at == MONDAY_8AM + minutes(120)


def test_none_when_no_resource_of_the_kind() -> None:
    spec = KindSpec(duration=minutes(30), resource_kinds=("surgeon", "procedure_room"))
    assert first_fitting_slot(spec, [resource("dr-s", "surgeon")], MONDAY_8AM, PHOENIX) is None


def test_none_when_nothing_is_open() -> None:
    spec = KindSpec(duration=minutes(30), resource_kinds=("physician",))
    closed = ResourceCalendar(resource_id="dr-a", kind="physician", weekly=())
    assert first_fitting_slot(spec, [closed], MONDAY_8AM, PHOENIX) is None
    assert first_fitting_slot(spec, [], MONDAY_8AM, PHOENIX) is None


def test_none_when_fully_booked_within_the_horizon() -> None:
    spec = KindSpec(duration=minutes(30), resource_kinds=("physician",))
    booked = resource("dr-a", "physician", (MONDAY_8AM - timedelta(days=1), MONDAY_8AM + timedelta(days=8)))
    assert first_fitting_slot(spec, [booked], MONDAY_8AM, PHOENIX, horizon=timedelta(days=7)) is None
    later = first_fitting_slot(spec, [booked], MONDAY_8AM, PHOENIX, horizon=timedelta(days=14))
    assert later is not None
    assert later.starts_at == MONDAY_8AM + timedelta(days=8)


def test_none_when_the_appointment_is_longer_than_any_window() -> None:
    spec = KindSpec(duration=timedelta(hours=10), resource_kinds=("physician",))
    assert first_fitting_slot(spec, [resource("dr-a", "physician")], MONDAY_8AM, PHOENIX) is None


def test_none_when_latest_start_is_before_opening() -> None:
    spec = KindSpec(duration=minutes(30), resource_kinds=("physician",), latest_start_local=time(7, 0))
    assert first_fitting_slot(spec, [resource("dr-a", "physician")], MONDAY_8AM, PHOENIX) is None


def test_window_in_clinic_time_not_utc() -> None:
    spec = KindSpec(duration=minutes(30), resource_kinds=("physician",))
    not_before = datetime(2025, 11, 24, 0, 0, tzinfo=UTC)  # Sunday 17:00 in Phoenix
    slot = first_fitting_slot(spec, [resource("dr-a", "physician")], not_before, PHOENIX)
    assert slot is not None
    assert slot.starts_at == MONDAY_8AM
    assert slot.starts_at.astimezone(UTC) == datetime(2025, 11, 24, 15, 0, tzinfo=UTC)


# --- properties --------------------------------------------------------------------------------------------

TIMEZONES = ("America/Phoenix", "America/New_York", "Europe/London", "Asia/Kolkata", "UTC")
KINDS = ("surgeon", "room")


@st.composite
def local_time_on_grid(draw: st.DrawFn, min_minute: int = 0, max_minute: int = 24 * 60 - 15) -> int:
    return 15 * draw(st.integers(min_value=min_minute // 15, max_value=max_minute // 15))


def clock(minute_of_day: int) -> time:
    return time(minute_of_day // 60, minute_of_day % 60)


@st.composite
def windows_st(draw: st.DrawFn) -> tuple[WeeklyWindow, ...]:
    result = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        # Daytime windows, away from the small hours when clocks change.
        opens = draw(local_time_on_grid(min_minute=6 * 60, max_minute=18 * 60))
        closes = draw(local_time_on_grid(min_minute=opens + 15, max_minute=22 * 60))
        result.append(WeeklyWindow(weekday=draw(st.integers(0, 6)), start=clock(opens), end=clock(closes)))
    return tuple(result)


@st.composite
def busy_st(draw: st.DrawFn, around: datetime) -> tuple[tuple[datetime, datetime], ...]:
    ranges = []
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        start = around + timedelta(minutes=draw(st.integers(min_value=-24 * 60, max_value=14 * 24 * 60)))
        length = timedelta(minutes=draw(st.integers(min_value=1, max_value=12 * 60)))
        ranges.append((start, start + length))
    return tuple(ranges)


@st.composite
def scenario_st(draw: st.DrawFn) -> tuple[KindSpec, list[ResourceCalendar], datetime, ZoneInfo]:
    tz = ZoneInfo(draw(st.sampled_from(TIMEZONES)))
    not_before = draw(
        st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC))
    )
    latest = draw(st.none() | local_time_on_grid(min_minute=6 * 60, max_minute=20 * 60).map(clock))
    spec = KindSpec(
        duration=minutes(5 * draw(st.integers(min_value=1, max_value=36))),
        buffer_before=minutes(5 * draw(st.integers(min_value=0, max_value=6))),
        buffer_after=minutes(5 * draw(st.integers(min_value=0, max_value=6))),
        resource_kinds=tuple(draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=2))),
        lead_time=minutes(draw(st.integers(min_value=0, max_value=3 * 24 * 60))),
        latest_start_local=latest,
    )
    resources = [
        ResourceCalendar(
            resource_id=f"res-{index}",
            kind=draw(st.sampled_from(KINDS)),
            weekly=draw(windows_st()),
            busy=draw(busy_st(not_before)),
        )
        for index in range(draw(st.integers(min_value=1, max_value=5)))
    ]
    return spec, resources, not_before, tz


def find(
    spec: KindSpec, resources: Sequence[ResourceCalendar], not_before: datetime, tz: ZoneInfo
) -> Slot | None:
    return first_fitting_slot(spec, resources, not_before, tz, horizon=HORIZON)


def check_slot(
    slot: Slot, spec: KindSpec, resources: Sequence[ResourceCalendar], not_before: datetime, tz: ZoneInfo
) -> None:
    """Every promise of a found slot, stated in absolute (UTC) time."""
    start, end = slot.starts_at.astimezone(UTC), slot.ends_at.astimezone(UTC)
    earliest = not_before + spec.lead_time
    assert start >= earliest
    assert start < earliest + HORIZON
    assert end - start == spec.duration
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    assert local_start.minute % 15 == 0
    assert local_start.second == local_start.microsecond == 0
    if spec.latest_start_local is not None:
        assert local_start.time() <= spec.latest_start_local
    # One distinct resource per required kind, in the order the kinds are listed.
    by_id = {r.resource_id: r for r in resources}
    assert len(slot.resource_ids) == len(spec.resource_kinds)
    assert len(set(slot.resource_ids)) == len(slot.resource_ids)
    occupied = (start - spec.buffer_before, end + spec.buffer_after)
    assert tuple(t.astimezone(UTC) for t in slot.occupied(spec)) == occupied
    for resource_id, kind in zip(slot.resource_ids, spec.resource_kinds, strict=True):
        chosen = by_id[resource_id]
        assert chosen.kind == kind
        # Inside one weekly window on a single local day.
        assert local_start.date() == local_end.date()
        assert any(
            w.weekday == local_start.weekday() and w.start <= local_start.time() and local_end.time() <= w.end
            for w in chosen.weekly
        )
        for busy in chosen.busy:
            assert not overlaps(occupied, busy)


@settings(deadline=None)
@given(scenario=scenario_st())
def test_found_slot_keeps_every_promise(
    scenario: tuple[KindSpec, list[ResourceCalendar], datetime, ZoneInfo],
) -> None:
    spec, resources, not_before, tz = scenario
    slot = find(spec, resources, not_before, tz)
    if slot is not None:
        check_slot(slot, spec, resources, not_before, tz)


@settings(deadline=None)
@given(scenario=scenario_st(), data=st.data())
def test_found_slot_is_the_first(
    scenario: tuple[KindSpec, list[ResourceCalendar], datetime, ZoneInfo], data: st.DataObject
) -> None:
    """Asking again from any later moment that still allows the slot finds the same slot."""
    spec, resources, not_before, tz = scenario
    slot = find(spec, resources, not_before, tz)
    if slot is None:
        return
    latest_not_before = slot.starts_at - spec.lead_time
    later_s = data.draw(
        st.integers(min_value=0, max_value=int((latest_not_before - not_before).total_seconds()))
    )
    again = find(spec, resources, not_before + timedelta(seconds=later_s), tz)
    assert again == slot


@settings(deadline=None)
@given(scenario=scenario_st())
def test_taking_the_found_slot_moves_the_next_booking(
    scenario: tuple[KindSpec, list[ResourceCalendar], datetime, ZoneInfo],
) -> None:
    """Booking the slot (marking its occupied range busy) leaves a calendar with no double booking."""
    spec, resources, not_before, tz = scenario
    slot = find(spec, resources, not_before, tz)
    if slot is None:
        return
    taken = [
        r.model_copy(update={"busy": (*r.busy, slot.occupied(spec))})
        if r.resource_id in slot.resource_ids
        else r
        for r in resources
    ]
    following = find(spec, taken, not_before, tz)
    if following is not None:
        check_slot(following, spec, taken, not_before, tz)
        assert following.starts_at >= slot.starts_at
        if following.starts_at == slot.starts_at:
            assert not set(following.resource_ids) & set(slot.resource_ids)


@settings(deadline=None)
@given(scenario=scenario_st())
def test_no_slot_without_open_windows(
    scenario: tuple[KindSpec, list[ResourceCalendar], datetime, ZoneInfo],
) -> None:
    spec, resources, not_before, tz = scenario
    closed = [r.model_copy(update={"weekly": ()}) for r in resources]
    assert find(spec, closed, not_before, tz) is None


@settings(deadline=None)
@given(scenario=scenario_st())
def test_no_slot_when_every_resource_is_busy(
    scenario: tuple[KindSpec, list[ResourceCalendar], datetime, ZoneInfo],
) -> None:
    spec, resources, not_before, tz = scenario
    always_busy = (not_before - timedelta(days=2), not_before + spec.lead_time + HORIZON + timedelta(days=2))
    booked = [r.model_copy(update={"busy": (always_busy,)}) for r in resources]
    assert find(spec, booked, not_before, tz) is None


@settings(deadline=None)
@given(scenario=scenario_st())
def test_two_kinds_need_two_distinct_resources(
    scenario: tuple[KindSpec, list[ResourceCalendar], datetime, ZoneInfo],
) -> None:
    spec, resources, not_before, tz = scenario
    two = spec.model_copy(update={"resource_kinds": ("surgeon", "room")})
    slot = find(two, resources, not_before, tz)
    if slot is not None:
        assert len(set(slot.resource_ids)) == 2
        kinds = {r.resource_id: r.kind for r in resources}
        assert [kinds[i] for i in slot.resource_ids] == ["surgeon", "room"]
        check_slot(slot, two, resources, not_before, tz)
    if sum(r.kind == "surgeon" for r in resources) == 0 or sum(r.kind == "room" for r in resources) == 0:
        assert slot is None
