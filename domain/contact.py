"""A change of a patient's contact details: the body of `PATCH /v1/patients/{patient_ref}`.

The fields and their types are the referral's (domain/referral.py `Patient`). A field left out stays as it
is; `phone` or `email` sent as null is removed. The other fields cannot be null, and the published schema
says so. A change names at least one field. Every field is read strictly: `sms_consent` is `true` or `false`,
never `"yes"`, `1` or `1.0`. The time zone is not here: it is part of the referral, and a
running pathway has already timed its reminders and prompts by it.
"""

from typing import Any, Literal

from pydantic import ConfigDict, EmailStr, Field, field_validator, model_validator

from domain.contract import ContractModel
from domain.fields import Flag
from domain.referral import Phone


def _not_null(schema: dict[str, Any]) -> None:
    """The published schema of an optional field that may be left out, but not sent as null."""
    schema.pop("default", None)
    choices = [s for s in schema.pop("anyOf", []) if s.get("type") != "null"]
    if choices:
        (choice,) = choices
        schema.update(choice)


class ContactChange(ContractModel):
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    phone: Phone | None = Field(default=None, description="E.164; null removes it")
    email: EmailStr | None = Field(default=None, description="null removes it")
    preferred_channel: Literal["sms", "email"] | None = Field(default=None, json_schema_extra=_not_null)
    sms_consent: Flag | None = Field(default=None, json_schema_extra=_not_null)

    @field_validator("preferred_channel", "sms_consent", mode="before")
    @classmethod
    def _not_null_when_sent(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep it")
        return value

    @model_validator(mode="after")
    def _names_a_change(self) -> "ContactChange":
        if not self.model_fields_set:
            raise ValueError("name at least one of phone, email, preferred_channel, sms_consent")
        return self

    def changes(self) -> dict[str, str | bool | None]:
        """The columns to set, by name: only the fields the request named."""
        return {name: getattr(self, name) for name in sorted(self.model_fields_set)}
