"""The demo clinic: one site in Phoenix with its resources, opening hours and appointment kinds.

Loaded by `make run` and by the tests; applying it again changes nothing (a policy someone set is kept).
"""

from db.clinic_policies import DEFAULTS_AUTHOR, current_policy, replace_policy
from db.pool import Connection
from domain.config import Profile
from domain.policy import default_policy

DEMO_SITE = "phoenix-main"

_RESOURCES = [
    ("phx-mri-1", "mri_scanner", "MRI scanner 1"),
    ("phx-dr-lee", "physician", "Dr. Lee (physiatrist)"),
    ("phx-dr-patel", "physician", "Dr. Patel (physiatrist)"),
    ("phx-dr-moreno", "surgeon", "Dr. Moreno (spine surgeon)"),
    ("phx-proc-room-1", "procedure_room", "Procedure room 1 (fluoroscopy)"),
]

# kind: (duration, buffer before, buffer after, resource kinds, lead time, latest local start)
_KINDS = [
    ("mri", "45 minutes", "0", "15 minutes", ["mri_scanner"], "1 day", None),
    ("exam", "30 minutes", "0", "0", ["physician"], "1 day", None),
    # Morning only, so the diary's 8-hour prompts end by evening.
    ("block", "30 minutes", "0", "15 minutes", ["physician", "procedure_room"], "1 day", "10:30"),
    # 30 minutes of surgery plus set-up and recovery turnover in the room.
    ("dvr", "30 minutes", "30 minutes", "30 minutes", ["surgeon", "procedure_room"], "3 days", None),
]

DEMO_CLINIC_PHONE = "+16025550111"


async def seed_demo_clinic(
    conn: Connection, relief_threshold: float | None = None, profile: Profile = "clinical"
) -> None:
    """The demo clinic, its calendar, and its policy: the profile's defaults (with `relief_threshold`, as
    `DVR_RELIEF_THRESHOLD` selects). Until someone changes its policy, the clinic follows the defaults of the
    stack it runs in: a later start with another profile or threshold stores them as its next version."""
    async with conn.transaction():
        await conn.execute(
            # The address is made up. A clinic seeded before it had one gets it; one set is kept.
            "insert into clinics (site, name, timezone, address) values ($1, $2, $3, $4)"
            " on conflict (site) do update set address = excluded.address where clinics.address is null",
            DEMO_SITE,
            "Phoenix Spine & Joint (demo)",
            "America/Phoenix",
            "1 Demo Way, Suite 100, Phoenix, AZ 85004",
        )
        # A made-up number (the 555-01xx range is reserved for fiction), which HELP replies give.
        await conn.execute(
            "update clinics set phone = $2 where site = $1 and phone is null", DEMO_SITE, DEMO_CLINIC_PHONE
        )
        # The calendar only for a clinic that has none: one loaded from a file since (admin/calendar.py) is
        # the clinic's own, and a start must not bring back what it left out.
        if not await conn.fetchval(
            "select exists (select 1 from resources where clinic_site = $1)", DEMO_SITE
        ):
            await _seed_calendar(conn)
        defaults = default_policy(relief_threshold, profile)
        current = await current_policy(conn, DEMO_SITE, defaults)
        assert current is not None
        if current.created_by == DEFAULTS_AUTHOR and current.policy != defaults:
            await replace_policy(conn, DEMO_SITE, defaults, DEFAULTS_AUTHOR)


async def _seed_calendar(conn: Connection) -> None:
    """The demo clinic's resources, their opening hours and its appointment kinds (examples/calendar.yaml
    is the same calendar as a file)."""
    for resource_id, kind, name in _RESOURCES:
        await conn.execute(
            "insert into resources (resource_id, clinic_site, kind, name) values ($1, $2, $3, $4)"
            " on conflict (resource_id) do nothing",
            resource_id,
            DEMO_SITE,
            kind,
            name,
        )
        for weekday in range(5):  # Monday to Friday, 08:00-17:00 clinic time
            await conn.execute(
                "insert into resource_hours (resource_id, weekday, opens, closes)"
                " values ($1, $2, '08:00', '17:00') on conflict do nothing",
                resource_id,
                weekday,
            )
    for kind, duration, before, after, resource_kinds, lead, latest in _KINDS:
        await conn.execute(
            "insert into appointment_kinds (clinic_site, kind, duration, buffer_before, buffer_after,"
            " resource_kinds, lead_time, latest_start_local)"
            " values ($1, $2, $3::text::interval, $4::text::interval, $5::text::interval, $6,"
            " $7::text::interval, $8::text::time) on conflict (clinic_site, kind) do nothing",
            DEMO_SITE,
            kind,
            duration,
            before,
            after,
            resource_kinds,
            lead,
            latest,
        )
