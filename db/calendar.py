"""The built-in calendar: clinics' resources, opening hours and closures, and bookings that cannot collide."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from db.pool import Connection, Queryable
from domain.appointments import Appointment, AppointmentKind, AppointmentStatus, BookingRequest
from domain.slots import KindSpec, ResourceCalendar, Slot, WeeklyWindow, first_fitting_slot

CELL = timedelta(minutes=5)
HORIZON = timedelta(days=60)
_SEARCH_ATTEMPTS = 5


class CalendarNotConfiguredError(Exception):
    """The clinic has no calendar for this appointment kind."""


class NoSlotError(Exception):
    """Nothing fits within the booking horizon."""


class BookingContentionError(Exception):
    """Other bookings kept taking the slots found; worth retrying later."""


def claim_cells(start: datetime, end: datetime) -> list[datetime]:
    """The 5-minute cells [start, end) covers, on the epoch-aligned grid."""
    epoch = int(start.timestamp())
    cursor = datetime.fromtimestamp(epoch - epoch % int(CELL.total_seconds()), tz=start.tzinfo)
    cells = []
    while cursor < end:
        cells.append(cursor)
        cursor += CELL
    return cells


def _appointment(row: asyncpg.Record) -> Appointment:
    return Appointment(
        appointment_id=str(row["appointment_id"]),
        kind=AppointmentKind(row["kind"]),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        status=AppointmentStatus(row["status"]),
    )


_SELECT = "select appointment_id, kind, starts_at, ends_at, status from appointments"


async def find_booking(conn: Queryable, request: BookingRequest) -> Appointment | None:
    row = await conn.fetchrow(
        f"{_SELECT} where pathway_id = $1 and kind = $2 and attempt = $3",
        request.pathway_id,
        request.kind.value,
        request.attempt,
    )
    return _appointment(row) if row else None


async def clinic_timezone(conn: Queryable, site: str) -> str | None:
    """The clinic's time zone, or None for a site we do not know."""
    tz: str | None = await conn.fetchval("select timezone from clinics where site = $1", site)
    return tz


async def load_kind(pool: asyncpg.Pool, clinic_site: str, kind: AppointmentKind) -> tuple[KindSpec, ZoneInfo]:
    row = await pool.fetchrow(
        "select k.*, c.timezone from appointment_kinds k join clinics c on c.site = k.clinic_site"
        " where k.clinic_site = $1 and k.kind = $2",
        clinic_site,
        kind.value,
    )
    if row is None:
        raise CalendarNotConfiguredError(f"clinic {clinic_site!r} has no calendar for {kind.value}")
    spec = KindSpec(
        duration=row["duration"],
        buffer_before=row["buffer_before"],
        buffer_after=row["buffer_after"],
        resource_kinds=tuple(row["resource_kinds"]),
        lead_time=row["lead_time"],
        latest_start_local=row["latest_start_local"],
    )
    return spec, ZoneInfo(row["timezone"])


async def load_resources(
    conn: Queryable,
    clinic_site: str,
    kinds: tuple[str, ...],
    start: datetime,
    end: datetime,
) -> list[ResourceCalendar]:
    """Each active resource of the given kinds with its opening hours, and what it cannot take in
    [start, end): the claims it holds, and the clinic's closures (holidays, blocked time) for it or for the
    whole clinic."""
    rows = await conn.fetch(
        "select r.resource_id, r.kind,"
        " coalesce((select array_agg(array[h.weekday::text, h.opens::text, h.closes::text])"
        "           from resource_hours h where h.resource_id = r.resource_id), '{}') as hours,"
        " coalesce((select array_agg(c.cell_start order by c.cell_start) from resource_claims c"
        "           where c.resource_id = r.resource_id and c.cell_start >= $3 and c.cell_start < $4), '{}')"
        "   as cells,"
        " coalesce((select array_agg(array[x.starts_at, x.ends_at] order by x.starts_at)"
        "           from calendar_closures x where x.clinic_site = r.clinic_site"
        "           and (x.resource_id is null or x.resource_id = r.resource_id)"
        "           and x.starts_at < $4 and x.ends_at > $3), '{}') as closures"
        " from resources r where r.clinic_site = $1 and r.active and r.kind = any($2::text[])"
        " order by r.resource_id",
        clinic_site,
        list(kinds),
        start,
        end,
    )
    return [
        ResourceCalendar(
            resource_id=row["resource_id"],
            kind=row["kind"],
            weekly=tuple(
                WeeklyWindow(
                    weekday=int(d),
                    start=datetime.strptime(o, "%H:%M:%S").time(),
                    end=datetime.strptime(c, "%H:%M:%S").time(),
                )
                for d, o, c in row["hours"]
            ),
            busy=(
                *((cell, cell + CELL) for cell in row["cells"]),
                *((opens, closes) for opens, closes in row["closures"]),
            ),
        )
        for row in rows
    ]


async def book(pool: asyncpg.Pool, request: BookingRequest) -> Appointment:
    """Books the first fitting slot, or returns the appointment this request already booked.

    Bookings at one clinic take turns (a transaction-scoped advisory lock), so concurrent requests do not all
    chase the same slot; the claims' primary key still refuses a double booking if anything slips past.
    """
    existing = await find_booking(pool, request)
    if existing is not None:
        return existing
    spec, tz = await load_kind(pool, request.clinic_site, request.kind)
    earliest = request.not_before + spec.lead_time
    for _ in range(_SEARCH_ATTEMPTS):
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "select pg_advisory_xact_lock(hashtext($1))", f"calendar:{request.clinic_site}"
                )
                found = await find_booking(conn, request)
                if found is not None:
                    return found
                resources = await load_resources(
                    conn,
                    request.clinic_site,
                    spec.resource_kinds,
                    earliest - spec.buffer_before - CELL,
                    earliest + HORIZON + spec.duration + spec.buffer_after,
                )
                slot = first_fitting_slot(spec, resources, request.not_before, tz, horizon=HORIZON)
                if slot is None:
                    raise NoSlotError(f"no {request.kind.value} slot within {HORIZON.days} days")
                return await _claim(conn, request, spec, slot)
        except asyncpg.UniqueViolationError:
            continue  # a claim made outside the lock took a cell of this slot: search again
    raise BookingContentionError(f"{request.kind.value} slots kept being taken; try again")


async def _claim(conn: Connection, request: BookingRequest, spec: KindSpec, slot: Slot) -> Appointment:
    occupied_from, occupied_to = slot.occupied(spec)
    cells = claim_cells(occupied_from, occupied_to)
    row = await conn.fetchrow(
        "insert into appointments (pathway_id, clinic_site, kind, attempt, starts_at, ends_at)"
        " values ($1, $2, $3, $4, $5, $6)"
        " returning appointment_id, kind, starts_at, ends_at, status",
        request.pathway_id,
        request.clinic_site,
        request.kind.value,
        request.attempt,
        slot.starts_at,
        slot.ends_at,
    )
    assert row is not None
    await conn.executemany(
        "insert into resource_claims (resource_id, cell_start, appointment_id) values ($1, $2, $3)",
        [(rid, cell, row["appointment_id"]) for rid in slot.resource_ids for cell in cells],
    )
    return _appointment(row)


async def set_status(pool: asyncpg.Pool, appointment_id: str, status: AppointmentStatus) -> None:
    """Records an appointment's status; a no-show or cancellation gives its resources back."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "update appointments set status = $2, updated_at = now() where appointment_id = $1",
            appointment_id,
            status.value,
        )
        if status in (AppointmentStatus.NOSHOW, AppointmentStatus.CANCELLED):
            await conn.execute("delete from resource_claims where appointment_id = $1", appointment_id)
