"""The booked appointments a clinic's new calendar no longer fits (db/calendar_sync.py writes the calendar):
listed for staff to move, never moved by the load."""

from dataclasses import dataclass
from datetime import datetime

from db.pool import Connection


@dataclass(frozen=True)
class BookingToReview:
    """A booked appointment still to come that the calendar no longer fits."""

    appointment_id: str
    pathway_id: str
    kind: str
    starts_at: datetime
    reasons: tuple[str, ...] = ()
    """Why (REVIEW_REASON_WORDS says each in words): a resource `left_out` of the file, a closure (`closed`),
    outside a resource's weekly hours (`out_of_hours`), or resources no longer fitting its kind
    (`wrong_kind`)."""


REVIEW_REASON_WORDS = {
    "left_out": "on a resource left out",
    "closed": "in a closure",
    "out_of_hours": "outside the resource's weekly hours",
    "wrong_kind": "resources no longer of the kinds it needs",
}


async def bookings_to_review(conn: Connection, site: str) -> list[BookingToReview]:
    """Booked appointments still to come that the calendar no longer fits: a load never moves a booking, so
    staff do (the pathway's change request).

    A booking is listed when a resource it holds is deactivated, or a closure covers its time on one; when
    it no longer lies inside one of a held resource's weekly windows, in the clinic's time zone as it is now
    (hours dropped or shortened, or the clinic's time zone changed); or when the resources it holds no longer
    fit its appointment kind (a resource's kind changed, or the kind needs another kind of resource).
    """
    rows = await conn.fetch(
        "with held as ("
        "  select distinct a.appointment_id, a.pathway_id, a.kind, a.starts_at, r.resource_id, r.active,"
        "   r.kind as resource_kind, k.resource_kinds,"
        "   a.starts_at at time zone cl.timezone as local_start,"
        "   a.ends_at at time zone cl.timezone as local_end"
        "  from appointments a"
        "  join clinics cl on cl.site = a.clinic_site"
        "  join resource_claims c on c.appointment_id = a.appointment_id"
        "  join resources r on r.resource_id = c.resource_id"
        "  left join appointment_kinds k on k.clinic_site = a.clinic_site and k.kind = a.kind"
        "  where a.clinic_site = $1 and a.status = 'booked' and a.ends_at > now()"
        "), checked as ("
        "  select h.*, not h.active as left_out,"
        "   exists (select 1 from resource_claims c join calendar_closures x on x.clinic_site = $1"
        "     and (x.resource_id is null or x.resource_id = c.resource_id)"
        "     and x.starts_at < c.cell_start + interval '5 minutes' and x.ends_at > c.cell_start"
        "     where c.appointment_id = h.appointment_id and c.resource_id = h.resource_id) as closed,"
        "   h.active and not exists (select 1 from resource_hours w where w.resource_id = h.resource_id"
        "     and h.local_start::date = h.local_end::date"
        "     and w.weekday = extract(isodow from h.local_start) - 1"
        "     and w.opens <= h.local_start::time and h.local_end::time <= w.closes) as out_of_hours"
        "  from held h"
        "), flagged as ("
        "  select appointment_id, pathway_id, kind, starts_at,"
        "   bool_or(left_out) as left_out, bool_or(closed) as closed, bool_or(out_of_hours) as out_of_hours,"
        "   coalesce(bool_or(resource_kind <> all(resource_kinds))"
        "    or not (resource_kinds <@ array_agg(resource_kind)), false) as wrong_kind"
        "  from checked group by appointment_id, pathway_id, kind, starts_at, resource_kinds"
        ")"
        " select * from flagged where left_out or closed or out_of_hours or wrong_kind"
        " order by starts_at, appointment_id",
        site,
    )
    return [
        BookingToReview(
            str(r["appointment_id"]),
            r["pathway_id"],
            r["kind"],
            r["starts_at"],
            tuple(reason for reason in REVIEW_REASON_WORDS if r[reason]),
        )
        for r in rows
    ]
