"""A change of a patient's contact details: the body of `PATCH /v1/patients/{patient_ref}`.

The fields and their types are the referral's (domain/referral.py `Patient`). A field left out stays as it
is; `phone` or `email` sent as null is removed. The other fields cannot be null, and the published schema
says so. A change names at least one field. Every field is read strictly: `sms_consent` is `true` or `false`,
never `"yes"`, `1` or `1.0`. `consents` records the patient's decisions by category (domain/consents.py);
it names at least one. The time zone is not here: it is part of the referral, and a
running pathway has already timed its reminders and prompts by it.
"""

from typing import Any, Literal

from pydantic import ConfigDict, EmailStr, Field, field_validator, model_validator

from domain.consents import ConsentCategory, Consents
from domain.contract import ContractModel
from domain.fields import Flag, not_null_schema
from domain.referral import Language, Phone

ADDRESS_OF = {"sms": "phone", "email": "email"}
"""The contact field a message on each channel is sent to."""


def missing_address(preferred_channel: str, phone: str | None, email: str | None) -> str | None:
    """The field the preferred channel needs but that is empty (its name, never a value); None if reachable.

    Only the preferred channel's address is required: the phone may go while e-mail is preferred, even with
    SMS consent (messages then go by e-mail; activities/notifications.py `choose_channel`)."""
    field = ADDRESS_OF[preferred_channel]
    return field if {"phone": phone, "email": email}[field] is None else None


def unreachable_detail(field: str) -> str:
    """The PHI-free detail of a `contact-unreachable` problem: the fields, not their values."""
    channel = next(channel for channel, address in ADDRESS_OF.items() if address == field)
    return (
        f"preferred_channel {channel} needs {field}: the patient's contact would have no {field} to send to."
        " Send the address, or another preferred_channel."
    )


def _some_consents_schema(schema: dict[str, Any]) -> None:
    """Not null, and naming at least one category (a referral's `consents` may be empty)."""
    not_null_schema(schema)
    schema["minProperties"] = 1


class ContactChange(ContractModel):
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    phone: Phone | None = Field(default=None, description="E.164; null removes it")
    email: EmailStr | None = Field(default=None, description="null removes it")
    preferred_channel: Literal["sms", "email"] | None = Field(default=None, json_schema_extra=not_null_schema)
    sms_consent: Flag | None = Field(default=None, json_schema_extra=not_null_schema)
    preferred_language: Language | None = Field(
        default=None, description="The language of the patient's messages", json_schema_extra=not_null_schema
    )
    consents: Consents | None = Field(
        default=None,
        description="The patient's decisions, recorded now; a category left out keeps its decision",
        json_schema_extra=_some_consents_schema,
    )

    @field_validator("preferred_channel", "sms_consent", "preferred_language", "consents", mode="before")
    @classmethod
    def _not_null_when_sent(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep it")
        return value

    @field_validator("consents")
    @classmethod
    def _names_a_category(cls, value: Consents | None) -> Consents | None:
        if value is not None and not value.model_fields_set:
            raise ValueError("name at least one of appointments, diary, follow_up, email")
        return value

    @model_validator(mode="after")
    def _names_a_change(self) -> "ContactChange":
        if not self.model_fields_set:
            raise ValueError(
                "name at least one of phone, email, preferred_channel, sms_consent, preferred_language,"
                " consents"
            )
        return self

    def changes(self) -> dict[str, str | bool | None]:
        """The columns to set, by name: only the contact fields the request named."""
        return {name: getattr(self, name) for name in sorted(self.model_fields_set - {"consents"})}

    def consent_decisions(self) -> dict[ConsentCategory, bool]:
        """The consent decisions to record, by category (none when the request named none)."""
        return self.consents.decisions() if self.consents else {}
