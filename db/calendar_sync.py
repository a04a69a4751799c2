"""Writing a clinic's calendar file into the database: after it, the clinic's calendar is the file's.

The clinic's row, its resources, their weekly hours, its appointment kinds and its closures are compared with
the file and only what differs is written, so loading the same file again writes nothing. A resource the file
leaves out is deactivated, never deleted: bookings and claims refer to it, and it takes no new bookings. Run
it inside the caller's transaction, which holds the clinic's calendar lock (the one bookings take), so a
booking sees the calendar before the load or after it, never half of it.
"""

from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

from db.pool import Connection
from domain.clinic_calendar import ClinicCalendar, Closure


class CalendarConflict(Exception):
    """The file cannot apply to this database (a resource id another clinic owns)."""


@dataclass
class CalendarChanges:
    """What a load changed (or, in a dry run, would change), by id; no PHI is involved."""

    clinic: list[str] = field(default_factory=list)
    """`created`, or the clinic's fields that changed."""
    resources_added: list[str] = field(default_factory=list)
    resources_changed: list[str] = field(default_factory=list)
    resources_deactivated: list[str] = field(default_factory=list)
    hours_changed: list[str] = field(default_factory=list)
    kinds_changed: list[str] = field(default_factory=list)
    closures_added: int = 0
    closures_removed: int = 0

    @property
    def any(self) -> bool:
        return any(bool(value) for value in vars(self).values())

    def as_detail(self) -> dict[str, Any]:
        """For the audit row: only what changed."""
        return {name: value for name, value in vars(self).items() if value}

    def lines(self) -> list[str]:
        """In plain words, one line per kind of change."""
        words = {
            "clinic": "clinic",
            "resources_added": "resources added",
            "resources_changed": "resources changed",
            "resources_deactivated": "resources deactivated (no new bookings)",
            "hours_changed": "weekly hours changed",
            "kinds_changed": "appointment kinds changed",
            "closures_added": "holidays and blocked times added",
            "closures_removed": "holidays and blocked times lifted",
        }
        out = []
        for name, value in vars(self).items():
            if value:
                shown = ", ".join(value) if isinstance(value, list) else str(value)
                out.append(f"{words[name]}: {shown}")
        return out


async def lock_calendar(conn: Connection, site: str) -> None:
    """The lock db/calendar.py's bookings take, until the transaction ends."""
    await conn.execute("select pg_advisory_xact_lock(hashtext($1))", f"calendar:{site}")


async def apply_calendar(conn: Connection, calendar: ClinicCalendar) -> CalendarChanges:
    changes = CalendarChanges()
    site = calendar.clinic.site
    await lock_calendar(conn, site)
    await _clinic(conn, calendar, changes)
    await _resources(conn, calendar, changes)
    await _kinds(conn, calendar, changes)
    await _closures(conn, site, calendar.closures(), changes)
    return changes


async def _clinic(conn: Connection, calendar: ClinicCalendar, changes: CalendarChanges) -> None:
    clinic = calendar.clinic
    wanted = {
        "name": clinic.name,
        "timezone": clinic.timezone,
        "address": clinic.address,
        "phone": clinic.phone,
    }
    row = await conn.fetchrow(
        "select name, timezone, address, phone from clinics where site = $1 for update", clinic.site
    )
    if row is None:
        await conn.execute(
            "insert into clinics (site, name, timezone, address, phone) values ($1, $2, $3, $4, $5)",
            clinic.site,
            *wanted.values(),
        )
        changes.clinic.append("created")
        return
    differ = [name for name, value in wanted.items() if row[name] != value]
    if differ:
        await conn.execute(
            "update clinics set name = $2, timezone = $3, address = $4, phone = $5 where site = $1",
            clinic.site,
            *wanted.values(),
        )
        changes.clinic.extend(differ)


async def _resources(conn: Connection, calendar: ClinicCalendar, changes: CalendarChanges) -> None:
    site = calendar.clinic.site
    ids = [r.id for r in calendar.resources]
    taken = await conn.fetch(
        "select resource_id, clinic_site from resources"
        " where resource_id = any($1::text[]) and clinic_site <> $2",
        ids,
        site,
    )
    if taken:
        owned = ", ".join(f"{r['resource_id']} ({r['clinic_site']})" for r in taken)
        raise CalendarConflict(
            f"resource ids belong to another clinic: {owned}; give these resources new ids"
        )
    stored = {
        r["resource_id"]: (r["kind"], r["name"], r["active"])
        for r in await conn.fetch(
            "select resource_id, kind, name, active from resources where clinic_site = $1", site
        )
    }
    hours: dict[str, set[tuple[int, time, time]]] = {}
    for row in await conn.fetch(
        "select h.resource_id, h.weekday, h.opens, h.closes from resource_hours h"
        " join resources r using (resource_id) where r.clinic_site = $1",
        site,
    ):
        hours.setdefault(row["resource_id"], set()).add((row["weekday"], row["opens"], row["closes"]))
    for resource in calendar.resources:
        before = stored.get(resource.id)
        if before is None:
            await conn.execute(
                "insert into resources (resource_id, clinic_site, kind, name) values ($1, $2, $3, $4)",
                resource.id,
                site,
                resource.kind,
                resource.name,
            )
            changes.resources_added.append(resource.id)
        elif before != (resource.kind, resource.name, True):
            await conn.execute(
                "update resources set kind = $2, name = $3, active = true where resource_id = $1",
                resource.id,
                resource.kind,
                resource.name,
            )
            changes.resources_changed.append(resource.id)
        hours_changed = await _set_hours(
            conn, resource.id, hours.get(resource.id, set()), calendar.weekly_hours(resource)
        )
        if hours_changed and before is not None and before[2]:  # added or back: said above
            changes.hours_changed.append(resource.id)
    for resource_id, (_, _, active) in sorted(stored.items()):
        if resource_id in ids:
            continue
        if active:
            await conn.execute("update resources set active = false where resource_id = $1", resource_id)
            changes.resources_deactivated.append(resource_id)
        # Out of the calendar, out of its hours: back in a later file, it gets that file's.
        await _set_hours(conn, resource_id, hours.get(resource_id, set()), frozenset())


async def _set_hours(
    conn: Connection,
    resource_id: str,
    stored: set[tuple[int, time, time]],
    wanted: frozenset[tuple[int, time, time]],
) -> bool:
    """Makes the resource's weekly hours `wanted`; whether anything changed."""
    gone, new = stored - wanted, wanted - stored
    if gone:
        await conn.executemany(
            "delete from resource_hours"
            " where resource_id = $1 and weekday = $2 and opens = $3 and closes = $4",
            [(resource_id, *window) for window in sorted(gone)],
        )
    if new:
        await conn.executemany(
            "insert into resource_hours (resource_id, weekday, opens, closes) values ($1, $2, $3, $4)",
            [(resource_id, *window) for window in sorted(new)],
        )
    return bool(gone or new)


_KindRow = tuple[timedelta, timedelta, timedelta, tuple[str, ...], timedelta, time | None]


async def _kinds(conn: Connection, calendar: ClinicCalendar, changes: CalendarChanges) -> None:
    site = calendar.clinic.site
    stored: dict[str, _KindRow] = {
        r["kind"]: (
            r["duration"],
            r["buffer_before"],
            r["buffer_after"],
            tuple(r["resource_kinds"]),
            r["lead_time"],
            r["latest_start_local"],
        )
        for r in await conn.fetch("select * from appointment_kinds where clinic_site = $1", site)
    }
    for kind, rule in sorted(calendar.appointment_kinds.items()):
        wanted: _KindRow = (
            rule.duration,
            rule.buffer_before,
            rule.buffer_after,
            tuple(rule.needs),
            rule.lead_time,
            rule.latest_start,
        )
        if stored.get(kind.value) == wanted:
            continue
        await conn.execute(
            "insert into appointment_kinds (clinic_site, kind, duration, buffer_before, buffer_after,"
            " resource_kinds, lead_time, latest_start_local) values ($1, $2, $3, $4, $5, $6, $7, $8)"
            " on conflict (clinic_site, kind) do update set duration = excluded.duration,"
            " buffer_before = excluded.buffer_before, buffer_after = excluded.buffer_after,"
            " resource_kinds = excluded.resource_kinds, lead_time = excluded.lead_time,"
            " latest_start_local = excluded.latest_start_local",
            site,
            kind.value,
            *wanted[:3],
            list(wanted[3]),
            *wanted[4:],
        )
        changes.kinds_changed.append(kind.value)


async def _closures(
    conn: Connection, site: str, wanted: frozenset[Closure], changes: CalendarChanges
) -> None:
    stored: dict[Closure, int] = {
        Closure(r["kind"], r["resource_id"], r["starts_at"], r["ends_at"], r["reason"]): r["closure_id"]
        for r in await conn.fetch(
            "select closure_id, kind, resource_id, starts_at, ends_at, reason from calendar_closures"
            " where clinic_site = $1",
            site,
        )
    }
    gone = [closure_id for closure, closure_id in stored.items() if closure not in wanted]
    new = [closure for closure in wanted if closure not in stored]
    if gone:
        await conn.execute("delete from calendar_closures where closure_id = any($1::bigint[])", gone)
    if new:
        await conn.executemany(
            "insert into calendar_closures (clinic_site, resource_id, kind, starts_at, ends_at, reason)"
            " values ($1, $2, $3, $4, $5, $6)",
            [(site, c.resource_id, c.kind, c.starts_at, c.ends_at, c.reason) for c in new],
        )
    changes.closures_added, changes.closures_removed = len(new), len(gone)
