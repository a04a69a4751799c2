"""The patient registry: PHI in, an opaque patient_ref out."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from db.consents import consents_of
from db.pool import Queryable
from domain.consents import ConsentCategory
from domain.phones import e164
from domain.referral import Patient
from domain.view import EmailStatus


@dataclass(frozen=True)
class Contact:
    """What a message needs to reach a patient."""

    given_name: str
    phone: str | None
    email: str | None
    timezone: str
    preferred_channel: str
    sms_consent: bool
    preferred_language: str = "en"
    phone_refused: bool = False
    """The SMS gateway refused the number as unusable: no SMS until the number changes."""
    sms_opted_out: bool = False
    """The number texted STOP: no SMS to it until it texts START (db/sms_numbers.py)."""
    email_refused: bool = False
    """The patient's mail server refused the address for good: no e-mail until the address changes."""
    clinic: str | None = None
    """The clinic's name, which messages may carry (DESIGN.md §6)."""
    clinic_address: str | None = None
    """Where the clinic's patients go; None when the clinic has none on file."""
    declined: frozenset[ConsentCategory] = frozenset()
    """The consents the patient declined (domain/consents.py): those messages are not sent, and with `email`
    declined the e-mail address is not used."""


@dataclass(frozen=True)
class Registration:
    patient_ref: str
    new: bool
    """True when this call stored the patient."""
    same_identity: bool
    """False when the MRN was already registered at the clinic to a patient with another identity."""


def _identity_key(given_name: str, family_name: str, birth_date: date) -> tuple[str, str, date]:
    """Names compared without regard to case or surrounding spaces; the birth date exactly."""
    return given_name.strip().casefold(), family_name.strip().casefold(), birth_date


async def register_patient(conn: Queryable, clinic_site: str, patient: Patient) -> Registration:
    """Stores the patient, one row per clinic and MRN; returns its patient_ref, whether it was new, and
    whether the patient already stored under the MRN has the referral's identity (names and birth date).

    A patient already known is left as it is: a referral never rewrites contact details (they change only
    through `PATCH /v1/patients/{patient_ref}`), nor the identity. A concurrent first insert of the same MRN
    is waited for, so of concurrent first referrals with other identities one registers the patient and the
    others are compared with it.
    """
    ref = await conn.fetchval(
        "insert into patients (clinic_site, mrn, given_name, family_name, birth_date, phone, email, timezone,"
        " preferred_channel, sms_consent, preferred_language, phone_e164)"
        " values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        " on conflict (clinic_site, mrn) do nothing returning patient_ref",
        clinic_site,
        patient.mrn,
        patient.given_name,
        patient.family_name,
        patient.birth_date,
        patient.phone,
        patient.email,
        patient.timezone,
        patient.preferred_channel,
        patient.sms_consent,
        patient.preferred_language,
        e164(patient.phone) if patient.phone else None,
    )
    if ref is not None:
        return Registration(str(ref), new=True, same_identity=True)
    known = await conn.fetchrow(
        "select patient_ref, given_name, family_name, birth_date from patients"
        " where clinic_site = $1 and mrn = $2",
        clinic_site,
        patient.mrn,
    )
    assert known is not None  # inserted by the transaction this one waited for; patients are never deleted
    same = _identity_key(known["given_name"], known["family_name"], known["birth_date"]) == _identity_key(
        patient.given_name, patient.family_name, patient.birth_date
    )
    return Registration(str(known["patient_ref"]), new=False, same_identity=same)


async def contact_for(conn: Queryable, patient_ref: str) -> Contact | None:
    """What a message to the patient needs, with their clinic's name and address and their consents."""
    row = await conn.fetchrow(
        "select p.given_name, p.phone, p.email, p.timezone, p.preferred_channel, p.sms_consent,"
        " p.preferred_language, p.phone_refused_at is not null as phone_refused,"
        " p.email_refused_at is not null as email_refused,"
        " exists (select 1 from sms_opt_outs o where o.phone_e164 = p.phone_e164) as sms_opted_out,"
        " c.name as clinic, c.address as clinic_address"
        " from patients p join clinics c on c.site = p.clinic_site where p.patient_ref = $1",
        patient_ref,
    )
    if row is None:
        return None
    consents = await consents_of(conn, patient_ref)
    declined = frozenset(category for category, granted in consents.items() if not granted)
    return Contact(**dict(row), declined=declined)


@dataclass(frozen=True)
class StoredContact:
    """The contact details a `PATCH /v1/patients/{patient_ref}` may change, as stored."""

    phone: str | None
    email: str | None
    preferred_channel: str
    sms_consent: bool


async def lock_contact(conn: Queryable, patient_ref: str) -> StoredContact | None:
    """The patient's contact details, the row locked until the transaction ends (so a change is checked
    against what it changes); None if no patient has this ref."""
    row = await conn.fetchrow(
        "select phone, email, preferred_channel, sms_consent from patients where patient_ref = $1 for update",
        patient_ref,
    )
    return StoredContact(**dict(row)) if row else None


_CONTACT_COLUMNS = frozenset({"phone", "email", "preferred_channel", "sms_consent", "preferred_language"})


async def change_contact(
    conn: Queryable, patient_ref: str, changes: Mapping[str, str | bool | None]
) -> datetime | None:
    """Sets the named contact columns of the patient; returns when, or None if no patient has this ref."""
    columns = sorted(changes)
    if not columns or not _CONTACT_COLUMNS.issuperset(columns):
        raise ValueError("only contact details change here, and at least one")
    assignments = ", ".join(f"{column} = ${n}" for n, column in enumerate(columns, start=2))
    values = [changes[column] for column in columns]
    if "phone" in changes:  # a new number is tried again by SMS (unless that number texted STOP)
        phone = changes["phone"]
        assignments += f", phone_refused_at = null, phone_e164 = ${len(values) + 2}"
        values.append(e164(phone) if isinstance(phone, str) else None)
    if "email" in changes:  # staff corrected the address: e-mail is tried again
        assignments += ", email_refused_at = null"
    updated_at: datetime | None = await conn.fetchval(
        f"update patients set {assignments}, updated_at = now() where patient_ref = $1 returning updated_at",
        patient_ref,
        *values,
    )
    return updated_at


async def refuse_phone(conn: Queryable, patient_ref: str, phone: str) -> None:
    """The SMS gateway refused `phone` as unusable: no SMS to the patient until their number changes (a
    number changed meanwhile is left alone; a second refusal, e.g. a delivery report sent twice, keeps the
    first one's time)."""
    await conn.execute(
        "update patients set phone_refused_at = coalesce(phone_refused_at, now())"
        " where patient_ref = $1 and phone = $2",
        patient_ref,
        phone,
    )


async def refuse_email(conn: Queryable, patient_ref: str, email: str) -> None:
    """The patient's mail server refused `email` for good: no e-mail to the patient until their address
    changes (an address changed meanwhile is left alone; a second refusal keeps the first one's time)."""
    await conn.execute(
        "update patients set email_refused_at = coalesce(email_refused_at, now())"
        " where patient_ref = $1 and email = $2",
        patient_ref,
        email,
    )


async def email_status(conn: Queryable, patient_ref: str, *, declined: bool) -> EmailStatus | None:
    """Whether the patient gets e-mail: refused (by their mail server), none (no address, or e-mail
    `declined`), else active; None if no patient has this ref."""
    row = await conn.fetchrow(
        "select email is not null as has_email, email_refused_at is not null as refused"
        " from patients where patient_ref = $1",
        patient_ref,
    )
    if row is None:
        return None
    return email_status_of(has_email=row["has_email"], refused=row["refused"], declined=declined)


def email_status_of(*, has_email: bool, refused: bool, declined: bool) -> EmailStatus:
    if not has_email:
        return "none"
    if refused:
        return "refused"
    return "none" if declined else "active"


@dataclass(frozen=True)
class PatientToCall:
    """What a staff member who must call a pathway's patient needs (admin/patients.py)."""

    patient_ref: str
    clinic_site: str
    given_name: str
    family_name: str
    phone: str | None
    email: str | None
    preferred_language: str
    preferred_channel: str
    timezone: str


async def patient_of_pathway(conn: Queryable, pathway_id: str) -> PatientToCall | None:
    """The patient the pathway's referral registered; None for a pathway id no referral started."""
    row = await conn.fetchrow(
        "select p.patient_ref::text as patient_ref, p.clinic_site, p.given_name, p.family_name, p.phone,"
        " p.email, p.preferred_language, p.preferred_channel, p.timezone"
        " from referrals r join patients p using (patient_ref) where r.pathway_id = $1",
        pathway_id,
    )
    return PatientToCall(**dict(row)) if row else None


async def patient_by_mrn(conn: Queryable, clinic_site: str, mrn: str) -> str | None:
    """The patient_ref stored under the clinic's MRN (an MRN is unique per clinic only); None: none is."""
    patient_ref = await conn.fetchval(
        "select patient_ref from patients where clinic_site = $1 and mrn = $2", clinic_site, mrn
    )
    return str(patient_ref) if patient_ref is not None else None
