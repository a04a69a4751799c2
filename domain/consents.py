"""The patient's rules of contact: which kinds of message they agreed to get, and whether by e-mail at all.

Each decision is kept with when and how it was made; the latest per category is in force. A category with
no decision is granted, so a patient registered before consents were asked for is messaged as before.
Which message belongs to which category is decided beside the texts (activities/message_categories.py).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import Field, field_validator

from domain.contract import ContractModel
from domain.fields import Flag, not_null_schema


class ConsentCategory(StrEnum):
    APPOINTMENTS = "appointments"
    """Booking confirmations, reminders, the block's preparation and the DVR's pre-operative instructions."""
    DIARY = "diary"
    """The block's pain diary: its prompts, their nudge and the +24 h return check."""
    FOLLOW_UP = "follow_up"
    """The next-day follow-up and the outcome check-ins, with their reminder."""
    EMAIL = "email"
    """Any message by e-mail: declined, an address on file is not used."""


class ConsentSource(StrEnum):
    """How a decision reached the orchestrator."""

    REFERRAL = "referral"
    """The referral that registered the patient."""
    API = "api"
    """Staff, through `PATCH /v1/patients/{patient_ref}` (the audit row names the API client)."""
    LINK = "link"
    """The patient, on their link page (`/p/{token}`; the audit row names the link)."""


@dataclass(frozen=True)
class ConsentDecision:
    category: ConsentCategory
    granted: bool
    recorded_at: datetime
    source: ConsentSource


def in_force(decisions: Iterable[ConsentDecision]) -> dict[ConsentCategory, bool]:
    """Every category's consent: the last of `decisions` (in the order they were recorded) for it, else
    granted."""
    return in_force_of((decision.category, decision.granted) for decision in decisions)


def in_force_of(decisions: Iterable[tuple[ConsentCategory, bool]]) -> dict[ConsentCategory, bool]:
    """`in_force` of (category, granted) decisions."""
    consents = dict.fromkeys(ConsentCategory, True)
    for category, granted in decisions:
        consents[category] = granted
    return consents


class Consents(ContractModel):
    """Decisions to record, by category; a category left out keeps the decision in force. Unknown
    categories and null are refused."""

    appointments: Flag | None = Field(
        default=None,
        description="Booking confirmations, reminders and preparation instructions",
        json_schema_extra=not_null_schema,
    )
    diary: Flag | None = Field(
        default=None,
        description="The block's pain diary prompts and the +24 h return check",
        json_schema_extra=not_null_schema,
    )
    follow_up: Flag | None = Field(
        default=None,
        description="The next-day follow-up and the outcome check-ins",
        json_schema_extra=not_null_schema,
    )
    email: Flag | None = Field(
        default=None,
        description="Messages by e-mail at all; declined, the e-mail address is not used",
        json_schema_extra=not_null_schema,
    )

    @field_validator("appointments", "diary", "follow_up", "email", mode="before")
    @classmethod
    def _not_null_when_sent(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null; leave the category out to keep its decision")
        return value

    def decisions(self) -> dict[ConsentCategory, bool]:
        """The categories the request named, and whether each is granted."""
        named = {name: getattr(self, name) for name in sorted(self.model_fields_set)}
        return {ConsentCategory(name): granted for name, granted in named.items()}
