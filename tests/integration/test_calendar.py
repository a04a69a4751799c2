"""The database itself makes a double booking of a resource impossible."""

import asyncio
import itertools
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from db import calendar
from db.seed import DEMO_SITE
from domain.appointments import AppointmentKind, AppointmentStatus, BookingRequest


async def _appointment_row(pool: asyncpg.Pool, starts: datetime) -> uuid.UUID:
    appointment_id: uuid.UUID = await pool.fetchval(
        "insert into appointments (pathway_id, clinic_site, kind, attempt, starts_at, ends_at)"
        " values ($1, $2, 'exam', 1, $3, $4) returning appointment_id",
        f"pathway-{uuid.uuid4()}",
        DEMO_SITE,
        starts,
        starts + timedelta(minutes=30),
    )
    return appointment_id


async def _claim(pool: asyncpg.Pool, appointment_id: uuid.UUID, cell: datetime) -> str:
    try:
        await pool.execute(
            "insert into resource_claims (resource_id, cell_start, appointment_id)"
            " values ('phx-dr-lee', $1, $2)",
            cell,
            appointment_id,
        )
    except asyncpg.UniqueViolationError:
        return "refused"
    return "claimed"


async def test_two_concurrent_claims_of_one_slot_cannot_both_succeed(pool: asyncpg.Pool) -> None:
    cell = datetime(2031, 3, 3, 16, 0, tzinfo=UTC)
    first, second = await _appointment_row(pool, cell), await _appointment_row(pool, cell)
    results = await asyncio.gather(_claim(pool, first, cell), _claim(pool, second, cell))
    assert sorted(results) == ["claimed", "refused"]


async def test_concurrent_bookings_get_distinct_slots(pool: asyncpg.Pool) -> None:
    not_before = datetime(2030, 6, 3, 15, 0, tzinfo=UTC)  # a Monday, 08:00 in Phoenix
    requests = [
        BookingRequest(
            pathway_id=f"pathway-{uuid.uuid4()}",
            clinic_site=DEMO_SITE,
            kind=AppointmentKind.DVR,
            attempt=1,
            not_before=not_before,
        )
        for _ in range(6)
    ]
    booked = await asyncio.gather(*(calendar.book(pool, r) for r in requests))
    ranges = sorted((a.starts_at, a.ends_at) for a in booked)
    for (_, end), (start, _) in itertools.pairwise(ranges):
        assert end + timedelta(minutes=60) <= start, "DVR bookings share the surgeon without turnover buffers"
    again = await calendar.book(pool, requests[0])
    assert again == booked[0], "the same (pathway, kind, attempt) must return the same appointment"


async def test_cancelling_frees_the_slot(pool: asyncpg.Pool) -> None:
    not_before = datetime(2030, 9, 2, 15, 0, tzinfo=UTC)
    request = BookingRequest(
        pathway_id=f"pathway-{uuid.uuid4()}",
        clinic_site=DEMO_SITE,
        kind=AppointmentKind.MRI,
        attempt=1,
        not_before=not_before,
    )
    first = await calendar.book(pool, request)
    await calendar.set_status(pool, first.appointment_id, AppointmentStatus.CANCELLED)
    later = await calendar.book(pool, request.model_copy(update={"pathway_id": f"pathway-{uuid.uuid4()}"}))
    assert later.starts_at == first.starts_at


async def test_unknown_clinic_is_a_clear_error(pool: asyncpg.Pool) -> None:
    request = BookingRequest(
        pathway_id="pathway-x",
        clinic_site="nowhere",
        kind=AppointmentKind.EXAM,
        attempt=1,
        not_before=datetime(2030, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(calendar.CalendarNotConfiguredError, match="no calendar for exam"):
        await calendar.book(pool, request)
