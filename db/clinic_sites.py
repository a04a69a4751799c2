"""Which clinic site a pathway or a patient belongs to, and which sites exist: what a site-limited API key
is checked against (api/site_access.py, admin/keys.py).

A pathway's site is its referral's: the referral row (written before the pathway starts) names the patient,
and a patient is registered at one site. One indexed lookup, without asking Temporal.
"""

import re

from db.pool import Queryable

# How a clinic site is spelt (as a referral's `clinic_site`): no quote or space, so a site can go into a
# Temporal visibility query as a literal and never as syntax.
SITE_PATTERN = re.compile(r"^[A-Za-z0-9._:\-]{1,128}\Z")


async def known_sites(conn: Queryable) -> list[str]:
    rows = await conn.fetch("select site from clinics order by site")
    return [row["site"] for row in rows]


async def pathway_site(conn: Queryable, pathway_id: str) -> str | None:
    """The site of the pathway's referral; None when no referral started a pathway with this id."""
    site: str | None = await conn.fetchval(
        "select p.clinic_site from referrals r join patients p using (patient_ref) where r.pathway_id = $1",
        pathway_id,
    )
    return site


async def patient_site(conn: Queryable, patient_ref: str) -> str | None:
    """The site the patient is registered at (each referral at another site registers them again there)."""
    site: str | None = await conn.fetchval(
        "select clinic_site from patients where patient_ref = $1", patient_ref
    )
    return site
