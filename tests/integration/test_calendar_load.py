"""Loading a clinic's calendar file: the example is the demo clinic, a load is idempotent, a changed file
changes only what differs, and bookings honour holidays and blocked time."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from admin.calendar_file import read_calendar_file
from db import calendar
from db.calendar_review import bookings_to_review
from db.calendar_sync import CalendarChanges, CalendarConflict, apply_calendar
from db.seed import DEMO_SITE, seed_demo_clinic
from domain.appointments import AppointmentKind, BookingRequest
from domain.clinic_calendar import ClinicCalendar
from tests.integration.clinic_calendars import calendar_of
from tests.integration.fresh_database import fresh_database, fresh_pool

EXAMPLES = Path(__file__).parents[2] / "examples"
PHOENIX = ZoneInfo("America/Phoenix")


@pytest.fixture
async def fresh(database: str) -> AsyncIterator[asyncpg.Pool]:
    async with fresh_pool(database, max_size=4) as pool:
        yield pool


def _calendar(tmp_path: Path, *edits: tuple[str, str]) -> ClinicCalendar:
    """The example file with each (old, new) text replaced."""
    text = (EXAMPLES / "calendar.yaml").read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"calendar-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(text)
    return read_calendar_file(path).calendar


async def _apply(pool: asyncpg.Pool, calendar_: ClinicCalendar) -> CalendarChanges:
    async with pool.acquire() as conn, conn.transaction():
        return await apply_calendar(conn, calendar_)


async def test_the_example_file_is_the_demo_clinics_calendar(database: str, tmp_path: Path) -> None:
    example = read_calendar_file(EXAMPLES / "calendar.yaml").calendar
    async with fresh_database(database) as seeded_url, fresh_database(database) as loaded_url:
        seeded, loaded = await asyncpg.connect(seeded_url), await asyncpg.connect(loaded_url)
        try:
            await seed_demo_clinic(seeded)
            async with loaded.transaction():
                changes = await apply_calendar(loaded, example)
            assert changes.clinic == ["created"]
            assert await calendar_of(loaded, DEMO_SITE) == await calendar_of(seeded, DEMO_SITE)
            async with seeded.transaction():  # and onto the seeded clinic, it changes nothing
                assert not (await apply_calendar(seeded, example)).any
        finally:
            await seeded.close()
            await loaded.close()


async def test_resources_from_a_csv_table_are_the_same_calendar(tmp_path: Path) -> None:
    text = (EXAMPLES / "calendar.yaml").read_text()
    start, end = text.index("resources:\n  - id:"), text.index("\n# The four kinds")
    (tmp_path / "calendar.yaml").write_text(f"{text[:start]}resources: calendar-resources.csv\n{text[end:]}")
    (tmp_path / "calendar-resources.csv").write_bytes((EXAMPLES / "calendar-resources.csv").read_bytes())
    from_csv = read_calendar_file(tmp_path / "calendar.yaml").calendar
    example = read_calendar_file(EXAMPLES / "calendar.yaml").calendar
    assert [(r.id, r.kind, r.name, from_csv.weekly_hours(r)) for r in from_csv.resources] == [
        (r.id, r.kind, r.name, example.weekly_hours(r)) for r in example.resources
    ]


async def test_a_changed_file_changes_only_what_differs_and_loading_it_again_nothing(
    fresh: asyncpg.Pool, tmp_path: Path
) -> None:
    await _apply(fresh, read_calendar_file(EXAMPLES / "calendar.yaml").calendar)
    changed = _calendar(
        tmp_path,
        ("  - id: phx-dr-patel\n    kind: physician\n    name: Dr. Patel (physiatrist)\n", ""),
        (
            "  - id: phx-dr-lee\n    kind: physician\n    name: Dr. Lee (physiatrist)\n",
            "  - id: phx-dr-lee\n    kind: physician\n    name: Dr. Lee (physiatrist)\n"
            "    hours:\n      mon-thu: [08:00-12:00, 13:00-17:00]\n",
        ),
        ("    lead_time: P3D", "    lead_time: P2D"),
        ("holidays: []", "holidays:\n  - date: 2030-06-04\n    name: A holiday"),
    )
    changes = await _apply(fresh, changed)
    assert changes == CalendarChanges(
        resources_deactivated=["phx-dr-patel"],
        hours_changed=["phx-dr-lee"],
        kinds_changed=["dvr"],
        closures_added=1,
    )
    stored = await calendar_of(fresh, DEMO_SITE)
    assert {r["resource_id"]: r["active"] for r in stored["resources"]}["phx-dr-patel"] is False
    assert not [h for h in stored["hours"] if h["resource_id"] == "phx-dr-patel"]
    lee = [
        (h["weekday"], str(h["opens"]), str(h["closes"]))
        for h in stored["hours"]
        if h["resource_id"] == "phx-dr-lee"
    ]
    assert lee == [
        (d, o, c) for d in range(4) for o, c in (("08:00:00", "12:00:00"), ("13:00:00", "17:00:00"))
    ]
    assert [(c["kind"], c["starts_at"], c["ends_at"]) for c in stored["closures"]] == [
        ("holiday", datetime(2030, 6, 4, tzinfo=PHOENIX), datetime(2030, 6, 5, tzinfo=PHOENIX))
    ]

    assert not (await _apply(fresh, changed)).any
    assert await calendar_of(fresh, DEMO_SITE) == stored

    back = await _apply(fresh, read_calendar_file(EXAMPLES / "calendar.yaml").calendar)
    assert back == CalendarChanges(
        resources_changed=["phx-dr-patel"],  # active again, with the clinic's hours
        hours_changed=["phx-dr-lee"],
        kinds_changed=["dvr"],
        closures_removed=1,
    )


def _request(kind: AppointmentKind, not_before: datetime) -> BookingRequest:
    return BookingRequest(
        pathway_id=f"pathway-{uuid.uuid4()}",
        clinic_site=DEMO_SITE,
        kind=kind,
        attempt=1,
        not_before=not_before,
    )


async def test_bookings_honour_holidays_and_blocked_time(fresh: asyncpg.Pool, tmp_path: Path) -> None:
    monday_8am = datetime(2030, 6, 3, 8, 0, tzinfo=PHOENIX)  # an exam's lead time is a day: Tuesday 08:00
    await _apply(
        fresh,
        _calendar(
            tmp_path,
            ("holidays: []", "holidays:\n  - date: 2030-06-04\n    name: A holiday"),
            (
                "blocked: []",
                "blocked:\n  - from: 2030-06-05 08:00\n    until: 2030-06-05 10:00\n"
                "    reason: staff meeting\n"
                "  - resource: phx-dr-lee\n    from: 2030-06-05 10:00\n    until: 2030-06-05 12:00\n"
                "    reason: clinic elsewhere",
            ),
        ),
    )
    first = await calendar.book(fresh, _request(AppointmentKind.EXAM, monday_8am))
    assert first.starts_at == datetime(2030, 6, 5, 10, 0, tzinfo=PHOENIX)  # Dr. Patel: Dr. Lee is blocked
    second = await calendar.book(fresh, _request(AppointmentKind.EXAM, monday_8am))
    assert second.starts_at == datetime(2030, 6, 5, 10, 30, tzinfo=PHOENIX)
    claimed = await fresh.fetch(
        "select distinct resource_id from resource_claims where appointment_id = any($1::uuid[])",
        [first.appointment_id, second.appointment_id],
    )
    assert {r["resource_id"] for r in claimed} == {"phx-dr-patel"}


MRI_1 = "  - id: phx-mri-1\n    kind: mri_scanner\n    name: MRI scanner 1\n"
MRI_2 = "  - id: phx-mri-2\n    kind: mri_scanner\n    name: MRI scanner 2\n"


async def test_a_resource_left_out_keeps_its_bookings_takes_no_new_ones_and_they_are_listed(
    fresh: asyncpg.Pool, tmp_path: Path
) -> None:
    await _apply(fresh, _calendar(tmp_path, (MRI_1, MRI_1 + MRI_2)))
    not_before = datetime.now(UTC)
    request = _request(AppointmentKind.MRI, not_before)
    booked = await calendar.book(fresh, request)
    on = await fresh.fetchval(
        "select distinct resource_id from resource_claims where appointment_id = $1", booked.appointment_id
    )
    assert on == "phx-mri-1"

    changes = await _apply(fresh, _calendar(tmp_path, (MRI_1, MRI_2)))
    assert changes.resources_deactivated == ["phx-mri-1"]
    async with fresh.acquire() as conn:
        review = await bookings_to_review(conn, DEMO_SITE)
    assert [(b.appointment_id, b.pathway_id) for b in review] == [(booked.appointment_id, request.pathway_id)]
    assert (
        await fresh.fetchval(
            "select status from appointments where appointment_id = $1", booked.appointment_id
        )
        == "booked"
    )

    again = await calendar.book(fresh, _request(AppointmentKind.MRI, not_before))
    assert again.starts_at == booked.starts_at  # the same slot, on the scanner still in the calendar
    on = await fresh.fetchval(
        "select distinct resource_id from resource_claims where appointment_id = $1", again.appointment_id
    )
    assert on == "phx-mri-2"


async def test_a_resource_id_of_another_clinic_is_refused_and_nothing_is_written(
    fresh: asyncpg.Pool, tmp_path: Path
) -> None:
    await _apply(fresh, read_calendar_file(EXAMPLES / "calendar.yaml").calendar)
    before = await calendar_of(fresh, DEMO_SITE)
    other = _calendar(
        tmp_path,
        ("  site: phoenix-main", "  site: tucson"),
        ("  name: Phoenix Spine & Joint (demo)", "  name: Tucson Spine"),
    )
    with pytest.raises(CalendarConflict, match=r"phx-mri-1 \(phoenix-main\)"):
        await _apply(fresh, other)
    assert await fresh.fetchval("select count(*) from clinics where site = 'tucson'") == 0
    assert await calendar_of(fresh, DEMO_SITE) == before


async def test_a_restart_keeps_a_calendar_loaded_for_the_demo_clinic(
    fresh: asyncpg.Pool, tmp_path: Path
) -> None:
    async with fresh.acquire() as conn:
        await seed_demo_clinic(conn)
    await _apply(
        fresh,
        _calendar(
            tmp_path, ("  - id: phx-dr-patel\n    kind: physician\n    name: Dr. Patel (physiatrist)\n", "")
        ),
    )
    loaded = await calendar_of(fresh, DEMO_SITE)
    async with fresh.acquire() as conn:
        await seed_demo_clinic(conn)  # what `make run` does at each start
    assert await calendar_of(fresh, DEMO_SITE) == loaded


async def _review(pool: asyncpg.Pool) -> dict[str, tuple[str, ...]]:
    async with pool.acquire() as conn:
        return {b.appointment_id: b.reasons for b in await bookings_to_review(conn, DEMO_SITE)}


async def _status(pool: asyncpg.Pool, appointment_id: str) -> str:
    status: str = await pool.fetchval(
        "select status from appointments where appointment_id = $1", appointment_id
    )
    return status


async def test_bookings_outside_the_new_weekly_hours_are_listed_and_stay_booked(
    fresh: asyncpg.Pool, tmp_path: Path
) -> None:
    await _apply(fresh, read_calendar_file(EXAMPLES / "calendar.yaml").calendar)
    thursday = await calendar.book(
        fresh, _request(AppointmentKind.EXAM, datetime(2030, 6, 5, 8, 0, tzinfo=PHOENIX))
    )
    friday = await calendar.book(
        fresh, _request(AppointmentKind.EXAM, datetime(2030, 6, 6, 8, 0, tzinfo=PHOENIX))
    )
    assert thursday.starts_at == datetime(2030, 6, 6, 8, 0, tzinfo=PHOENIX)
    assert friday.starts_at == datetime(2030, 6, 7, 8, 0, tzinfo=PHOENIX)
    assert await _review(fresh) == {}

    changes = await _apply(fresh, _calendar(tmp_path, ("  mon-fri: 08:00-17:00", "  mon-thu: 08:00-17:00")))
    assert "phx-dr-lee" in changes.hours_changed
    assert await _review(fresh) == {friday.appointment_id: ("out_of_hours",)}
    assert await _status(fresh, friday.appointment_id) == "booked"

    # Shortened hours: the Thursday 08:00-08:30 exam no longer fits a day opening at 09:00.
    await _apply(fresh, _calendar(tmp_path, ("  mon-fri: 08:00-17:00", "  mon-thu: 09:00-17:00")))
    assert await _review(fresh) == {
        thursday.appointment_id: ("out_of_hours",),
        friday.appointment_id: ("out_of_hours",),
    }


async def test_bookings_whose_local_time_moved_out_of_hours_with_the_time_zone_are_listed(
    fresh: asyncpg.Pool, tmp_path: Path
) -> None:
    await _apply(fresh, read_calendar_file(EXAMPLES / "calendar.yaml").calendar)
    booked = await calendar.book(
        fresh, _request(AppointmentKind.EXAM, datetime(2030, 6, 5, 8, 0, tzinfo=PHOENIX))
    )
    assert booked.starts_at == datetime(2030, 6, 6, 8, 0, tzinfo=PHOENIX)  # 05:00 in Honolulu

    changes = await _apply(
        fresh, _calendar(tmp_path, ("  timezone: America/Phoenix", "  timezone: Pacific/Honolulu"))
    )
    assert changes.clinic == ["timezone"]
    assert await _review(fresh) == {booked.appointment_id: ("out_of_hours",)}
    assert await _status(fresh, booked.appointment_id) == "booked"


async def test_bookings_on_a_resource_whose_kind_no_longer_fits_are_listed(
    fresh: asyncpg.Pool, tmp_path: Path
) -> None:
    await _apply(fresh, read_calendar_file(EXAMPLES / "calendar.yaml").calendar)
    exam = await calendar.book(
        fresh, _request(AppointmentKind.EXAM, datetime(2030, 6, 5, 8, 0, tzinfo=PHOENIX))
    )
    on = await fresh.fetchval(
        "select distinct resource_id from resource_claims where appointment_id = $1", exam.appointment_id
    )
    assert on == "phx-dr-lee"

    lee = "  - id: phx-dr-lee\n    kind: physician\n"
    changes = await _apply(fresh, _calendar(tmp_path, (lee, "  - id: phx-dr-lee\n    kind: surgeon\n")))
    assert changes.resources_changed == ["phx-dr-lee"]
    assert await _review(fresh) == {exam.appointment_id: ("wrong_kind",)}
    assert await _status(fresh, exam.appointment_id) == "booked"

    # Back as a physician, but exams now need a procedure room too, which the booking does not hold.
    needs = "    duration: PT30M\n    needs: [physician]\n"
    await _apply(
        fresh, _calendar(tmp_path, (needs, "    duration: PT30M\n    needs: [physician, procedure_room]\n"))
    )
    assert await _review(fresh) == {exam.appointment_id: ("wrong_kind",)}

    assert not (await _apply(fresh, read_calendar_file(EXAMPLES / "calendar.yaml").calendar)).closures_added
    assert await _review(fresh) == {}
