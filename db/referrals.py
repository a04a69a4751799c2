"""The referral that started each pathway, kept as a canonical hash beside the patient it names.

A replay of the referral (same source and referral id, so the same pathway id) is compared with it: the same
referral is answered with its pathway, another body is a conflict. The pathway id is the primary key, so of
concurrent first requests for one referral exactly one inserts it; the others wait for it and compare.
"""

from dataclasses import dataclass

from db.pool import Queryable


@dataclass(frozen=True)
class StoredReferral:
    referral_hash: str
    patient_ref: str
    first_request: str | None
    """A digest of the API client and Idempotency-Key of the request that stored it (None: no key)."""


async def remember_referral(
    conn: Queryable, pathway_id: str, referral_hash: str, patient_ref: str, request: str | None
) -> tuple[StoredReferral, bool]:
    """Stores the referral of `pathway_id`, or finds the one stored first; returns it and whether this
    call stored it. Run it in the transaction that registered the patient, so a conflict undoes both.

    One statement: the insert, or else the row it met. A first request that committed while this statement
    waited for it is not in the statement's snapshot: it then finds nothing and is sent again."""
    while True:
        row = await conn.fetchrow(
            "with inserted as ("
            " insert into referrals (pathway_id, referral_hash, patient_ref, first_request)"
            " values ($1, $2, $3, $4) on conflict (pathway_id) do nothing"
            " returning referral_hash, patient_ref, first_request, true as inserted)"
            " select * from inserted"
            " union all"
            " select referral_hash, patient_ref, first_request, false from referrals"
            " where pathway_id = $1 and not exists (select from inserted)",
            pathway_id,
            referral_hash,
            patient_ref,
            request,
        )
        if row is not None:
            stored = StoredReferral(row["referral_hash"], str(row["patient_ref"]), row["first_request"])
            return stored, row["inserted"]


async def pathway_patient(conn: Queryable, pathway_id: str) -> str | None:
    """The patient_ref of the pathway a referral started; None when no referral started one with this id."""
    patient_ref = await conn.fetchval("select patient_ref from referrals where pathway_id = $1", pathway_id)
    return str(patient_ref) if patient_ref is not None else None


async def patient_pathways(conn: Queryable, patient_ref: str) -> list[str]:
    """The ids of the pathways referrals started for the patient, oldest first."""
    rows = await conn.fetch(
        "select pathway_id from referrals where patient_ref = $1 order by created_at, pathway_id", patient_ref
    )
    return [row["pathway_id"] for row in rows]
