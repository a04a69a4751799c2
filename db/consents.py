"""The patient's consent decisions (domain/consents.py): appended, never changed; the latest is in force."""

from collections.abc import Mapping
from datetime import datetime

from db.pool import Queryable
from domain.consents import ConsentCategory, ConsentDecision, ConsentSource, in_force


async def record_consents(
    conn: Queryable,
    patient_ref: str,
    decisions: Mapping[ConsentCategory, bool],
    source: ConsentSource,
) -> datetime:
    """Appends one decision per category, all at the transaction's time; returns that time."""
    if not decisions:
        raise ValueError("record at least one decision")
    categories = sorted(decisions)
    recorded_at: datetime = await conn.fetchval(
        "insert into patient_consents (patient_ref, category, granted, recorded_at, source)"
        " select $1::uuid, category, granted, now(), $4::text"
        " from unnest($2::text[], $3::bool[]) as d (category, granted)"
        " returning recorded_at",
        patient_ref,
        categories,
        [decisions[category] for category in categories],
        source,
    )
    return recorded_at


async def decisions_of(conn: Queryable, patient_ref: str) -> list[ConsentDecision]:
    """Every decision the patient made, in the order it was recorded."""
    rows = await conn.fetch(
        "select category, granted, recorded_at, source from patient_consents"
        " where patient_ref = $1 order by id",
        patient_ref,
    )
    return [
        ConsentDecision(
            ConsentCategory(r["category"]), r["granted"], r["recorded_at"], ConsentSource(r["source"])
        )
        for r in rows
    ]


async def consents_of(conn: Queryable, patient_ref: str) -> dict[ConsentCategory, bool]:
    """Every category's consent in force (granted where the patient decided nothing)."""
    return in_force(await decisions_of(conn, patient_ref))
