"""A clinic's calendar as the database holds it, to compare two databases or a database before and after."""

from typing import Any

from db.pool import Queryable


async def calendar_of(conn: Queryable, site: str) -> dict[str, Any]:
    """The clinic's row, its resources, their hours, its appointment kinds and closures, in a fixed order."""
    clinic = await conn.fetchrow(
        "select site, name, timezone, address, phone from clinics where site = $1", site
    )
    resources = await conn.fetch(
        "select resource_id, kind, name, active from resources where clinic_site = $1 order by resource_id",
        site,
    )
    hours = await conn.fetch(
        "select h.* from resource_hours h join resources r using (resource_id) where r.clinic_site = $1"
        " order by h.resource_id, h.weekday, h.opens",
        site,
    )
    kinds = await conn.fetch("select * from appointment_kinds where clinic_site = $1 order by kind", site)
    closures = await conn.fetch(
        "select kind, resource_id, starts_at, ends_at, reason from calendar_closures where clinic_site = $1"
        " order by starts_at, resource_id nulls first",
        site,
    )
    return {
        "clinic": dict(clinic) if clinic else None,
        "resources": [dict(r) for r in resources],
        "hours": [dict(h) for h in hours],
        "kinds": [dict(k) for k in kinds],
        "closures": [dict(c) for c in closures],
    }
