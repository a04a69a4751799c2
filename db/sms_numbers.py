"""Patients by their phone number, and the numbers that opted out of SMS (texted STOP to us, or
unsubscribed at the gateway).

Numbers are compared in E.164 (domain/phones.py): `patients.phone_e164` is the stored phone normalised, and
callers pass a normalised number. An opt-out belongs to the number, so it covers every patient with it, and a
patient registered later with that number (a new referral never turns SMS back on).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from db.pool import Queryable
from domain.view import SmsStatus

OptOutSource = Literal["sms_reply", "gateway"]
"""How a number opted out: a STOP texted to us (`sms_reply`), or the gateway refusing to send to it because it
unsubscribed there (`gateway`). Either is lifted by START."""


@dataclass(frozen=True)
class NumberHolder:
    """A patient with the number, and what a reply to them needs (no PHI beyond the language)."""

    patient_ref: str
    preferred_language: str
    clinic: str
    clinic_phone: str | None


async def holders_of(conn: Queryable, phone_e164: str) -> list[NumberHolder]:
    """Every patient whose phone is this number, in a stable order."""
    rows = await conn.fetch(
        "select p.patient_ref, p.preferred_language, c.name as clinic, c.phone as clinic_phone"
        " from patients p join clinics c on c.site = p.clinic_site"
        " where p.phone_e164 = $1 order by p.created_at, p.patient_ref",
        phone_e164,
    )
    return [
        NumberHolder(str(r["patient_ref"]), r["preferred_language"], r["clinic"], r["clinic_phone"])
        for r in rows
    ]


async def pathways_of(conn: Queryable, patient_refs: list[str]) -> list[tuple[str, str]]:
    """(patient_ref, pathway_id) of every referral of these patients, newest first."""
    rows = await conn.fetch(
        "select patient_ref, pathway_id from referrals where patient_ref = any($1::uuid[])"
        " order by created_at desc",
        patient_refs,
    )
    return [(str(r["patient_ref"]), r["pathway_id"]) for r in rows]


async def opt_out(conn: Queryable, phone_e164: str, at: datetime, source: OptOutSource = "sms_reply") -> None:
    """No SMS to the number from now on; the first opt-out's time and source are kept while it lasts."""
    await conn.execute(
        "insert into sms_opt_outs (phone_e164, opted_out_at, source) values ($1, $2, $3)"
        " on conflict (phone_e164) do nothing",
        phone_e164,
        at,
        source,
    )


async def opt_in(conn: Queryable, phone_e164: str) -> None:
    """SMS to the number again (patients who consented to it)."""
    await conn.execute("delete from sms_opt_outs where phone_e164 = $1", phone_e164)


async def opted_out(conn: Queryable, phone_e164: str) -> bool:
    found: bool = await conn.fetchval(
        "select exists (select 1 from sms_opt_outs where phone_e164 = $1)", phone_e164
    )
    return found


async def sole_clinic(conn: Queryable) -> tuple[str, str | None] | None:
    """The name and phone of the deployment's clinic, when it has exactly one."""
    rows = await conn.fetch("select name, phone from clinics limit 2")
    return (rows[0]["name"], rows[0]["phone"]) if len(rows) == 1 else None


async def sms_status(conn: Queryable, patient_ref: str) -> SmsStatus | None:
    """Whether the patient gets SMS: opted out (texted STOP, or unsubscribed at the gateway), refused (by the
    gateway as unusable), none (no number or no consent), else active; None if no patient has this ref."""
    row = await conn.fetchrow(
        "select p.phone is not null as has_phone, p.sms_consent, p.phone_refused_at is not null as refused,"
        " exists (select 1 from sms_opt_outs o where o.phone_e164 = p.phone_e164) as opted_out"
        " from patients p where p.patient_ref = $1",
        patient_ref,
    )
    if row is None:
        return None
    return sms_status_of(
        has_phone=row["has_phone"],
        opted_out=row["opted_out"],
        refused=row["refused"],
        consent=row["sms_consent"],
    )


def sms_status_of(*, has_phone: bool, opted_out: bool, refused: bool, consent: bool) -> SmsStatus:
    if not has_phone:
        return "none"
    if opted_out:
        return "opted_out"
    if refused:
        return "refused"
    return "active" if consent else "none"
