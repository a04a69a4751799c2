"""The referral an upstream system sends (DESIGN.md §4), and the PHI-free part of it a workflow receives."""

from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, EmailStr, Field, StringConstraints, field_validator

from domain.consents import Consents
from domain.contract import ContractModel
from domain.fields import BirthDate, ClinicalDate, Flag, Name, not_null_schema
from domain.phones import e164

Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$"),
]


def check_phone(value: str) -> str:
    """Refuses a number shaped like E.164 that no country's numbers can be (a country code that does not
    exist, a length the country does not use): it would fail only later, at the gateway."""
    if e164(value) is None:
        raise ValueError("must be a possible phone number in E.164: a country code and a length that match")
    return value


Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$"), AfterValidator(check_phone)]
Language = Literal["en", "es"]
"""The languages the patient's messages are written in (activities/templates)."""


def check_timezone(value: str) -> str:
    """Rejects anything that is not an IANA time zone name."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError("must be an IANA time zone name, such as America/Phoenix") from err
    return value


class Patient(ContractModel):
    """The patient's identity and contact details: PHI, stored only in PostgreSQL."""

    mrn: Identifier
    given_name: Name
    family_name: Name
    birth_date: BirthDate
    phone: Phone | None = None
    email: EmailStr | None = None
    timezone: Annotated[str, StringConstraints(max_length=64)] = "America/Phoenix"
    preferred_channel: Literal["sms", "email"] = "sms"
    sms_consent: Flag = False
    preferred_language: Language = "en"
    consents: Consents | None = Field(
        default=None,
        description="The patient's rules of contact, recorded when the referral registers the patient (a"
        " known patient's change only through PATCH /v1/patients/{patient_ref}); a category left out is"
        " granted",
        json_schema_extra=not_null_schema,
    )

    _tz = field_validator("timezone")(check_timezone)

    @field_validator("consents", mode="before")
    @classmethod
    def _consents_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null; leave it out to grant every category")
        return value

    @field_validator("birth_date")
    @classmethod
    def _born_in_the_past(cls, value: date) -> date:
        if value >= date.today():
            raise ValueError("must be a past date")
        return value


class ReferringProvider(ContractModel):
    name: Name
    npi: Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")] | None = None


class Symptoms(ContractModel):
    """What the referral says of the pain; screened against criterion 1."""

    axial_low_back_pain: Flag
    buttock_radiation: Flag = False
    hip_pain: Flag = False
    lateral_thigh_burning: Flag = False
    pain_below_knee: Flag = False


class History(ContractModel):
    """Indications that make a patient a good candidate."""

    prior_rfa_with_recurrence: Flag = False
    prior_laminectomy_or_microdiscectomy: Flag = False
    considering_adjacent_level_fusion: Flag = False


class MriOnFile(ContractModel):
    performed_on: ClinicalDate
    study_ref: Identifier | None = None


class Referral(ContractModel):
    """`POST /v1/referrals` body."""

    referral_id: Identifier
    source_system: Identifier = "default"
    clinic_site: Identifier
    patient: Patient
    referring_provider: ReferringProvider
    symptoms: Symptoms
    history: History = Field(default_factory=History)
    mri: MriOnFile | None = None

    # Checked here, not on MriOnFile: workflows deserialize MriOnFile and must not read the clock.
    @field_validator("mri")
    @classmethod
    def _mri_not_in_future(cls, value: MriOnFile | None) -> MriOnFile | None:
        if value is not None and value.performed_on > date.today():
            raise ValueError("performed_on cannot be in the future")
        return value

    def clinical(self) -> "ClinicalReferral":
        """The part of the referral a workflow may carry: no names, contacts, MRN or birth date."""
        return ClinicalReferral(symptoms=self.symptoms, history=self.history, mri=self.mri)


class ClinicalReferral(ContractModel):
    symptoms: Symptoms
    history: History
    mri: MriOnFile | None
