"""A pathway's `contact` section read together with the audit row of that read: one statement, one round trip.

The audit row (DESIGN.md: every PHI read is audited) is written by the statement that reads the patient's
contact facts, so it commits before the answer is sent, as a separate insert did, without a round trip of its
own. The facts and what they mean are those of db/sms_numbers.py, db/patients.py and db/consents.py.
"""

from typing import Any

from db.patients import email_status_of
from db.pool import Queryable
from db.sms_numbers import sms_status_of
from domain.consents import ConsentCategory, in_force_of
from domain.view import ContactView

_READ_AND_AUDIT = (
    "with audited as ("
    " insert into audit_log (actor, action, patient_ref, pathway_id, detail) values ($2, $3, $1, $4, $5))"
    " select p.phone is not null as has_phone, p.sms_consent,"
    " p.phone_refused_at is not null as phone_refused,"
    " exists (select 1 from sms_opt_outs o where o.phone_e164 = p.phone_e164) as opted_out,"
    " p.email is not null as has_email, p.email_refused_at is not null as email_refused,"
    " array(select c.category from patient_consents c where c.patient_ref = p.patient_ref order by c.id)"
    " as categories,"
    " array(select c.granted from patient_consents c where c.patient_ref = p.patient_ref order by c.id)"
    " as granted"
    " from patients p where p.patient_ref = $1"
)


async def audited_contact(
    conn: Queryable,
    patient_ref: str,
    *,
    actor: str,
    action: str,
    pathway_id: str,
    detail: dict[str, Any] | None = None,
) -> ContactView | None:
    """The patient's contact section (None: no patient has this ref), and the audit row of the read."""
    row = await conn.fetchrow(_READ_AND_AUDIT, patient_ref, actor, action, pathway_id, detail or {})
    if row is None:
        return None
    consents = in_force_of(zip((ConsentCategory(c) for c in row["categories"]), row["granted"], strict=True))
    declined = consents.get(ConsentCategory.EMAIL) is False
    return ContactView(
        sms=sms_status_of(
            has_phone=row["has_phone"],
            opted_out=row["opted_out"],
            refused=row["phone_refused"],
            consent=row["sms_consent"],
        ),
        email=email_status_of(has_email=row["has_email"], refused=row["email_refused"], declined=declined),
        consents=consents,
    )
