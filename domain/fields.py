"""The field types every request body is built from: strict scalars, clean text, dates within sane bounds.

A body is read exactly as sent: `true` is not a pain score, `"5"` and `5.0` are not 5, a number is not a date.
Text never carries a NUL character, and a name has at least one character that is not a space; the
published schema says so with the same pattern. Every date and instant lies between bounds that fit its
field, so no clinical record of year 1 or 9999 reaches a workflow.

The same types decode payloads from Temporal history (JSON): strict booleans and integers read JSON's own
`true` and `5`, and dates and instants are JSON strings, so history decodes as before.
"""

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, Field, StrictBool, StrictInt, StringConstraints

# At least one character that is not a space, and no NUL anywhere (JSON Schema and pydantic read it alike).
NON_BLANK_WITHOUT_NUL = r"^[^\x00]*[^\s\x00][^\x00]*$"

Flag = StrictBool
"""`true` or `false`; never 1, "true" or "yes"."""

"""A whole number sent as one: `5`, never `5.0` or `"5"`."""

LocalHour = Annotated[StrictInt, Field(ge=0, le=23, description="An hour of the day, clinic or patient time")]
"""An hour of the local day, 0 to 23."""

PainScore = Annotated[StrictInt, Field(ge=0, le=10, description="0-10 numeric rating scale")]


def _text(max_length: int) -> Any:
    return StringConstraints(
        strip_whitespace=True, min_length=1, max_length=max_length, pattern=NON_BLANK_WITHOUT_NUL
    )


Name = Annotated[str, _text(200)]
"""A person's or provider's name: not blank, no NUL; surrounding spaces are dropped."""

Clinician = Annotated[str, _text(120)]
"""Who recorded a step."""

Reason = Annotated[str, _text(500)]
"""Free text giving a reason."""


def _iso_text(value: Any) -> Any:
    """Dates and instants come as ISO 8601 text (or as the type itself from code), never as numbers."""
    if isinstance(value, bool | int | float):
        raise ValueError("must be an ISO 8601 string")
    return value


CLINICAL_FROM, CLINICAL_UNTIL = 2000, 2100
BIRTH_FROM = 1900

ClinicalInstant = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_text),
    Field(
        ge=datetime(CLINICAL_FROM, 1, 1, tzinfo=UTC),
        lt=datetime(CLINICAL_UNTIL + 1, 1, 1, tzinfo=UTC),
        description=f"ISO 8601 with a UTC offset, in the years {CLINICAL_FROM}-{CLINICAL_UNTIL}",
    ),
]
"""When something clinical happened: a block, a pain report, a procedure."""

ClinicalDate = Annotated[
    date,
    BeforeValidator(_iso_text),
    Field(
        ge=date(CLINICAL_FROM, 1, 1),
        le=date(CLINICAL_UNTIL, 12, 31),
        description=f"ISO 8601 date in the years {CLINICAL_FROM}-{CLINICAL_UNTIL}",
    ),
]
"""The day of a clinical event, such as an MRI."""

BirthDate = Annotated[
    date,
    BeforeValidator(_iso_text),
    Field(
        ge=date(BIRTH_FROM, 1, 1),
        le=date(CLINICAL_UNTIL, 12, 31),
        description=f"ISO 8601 date after {BIRTH_FROM}, in the past",
    ),
]
"""A birth date; that it is in the past is checked where the clock may be read (the referral)."""


def not_null_schema(schema: dict[str, Any]) -> None:
    """The published schema of an optional field that may be left out, but not sent as null."""
    schema.pop("default", None)
    choices = [s for s in schema.pop("anyOf", []) if s.get("type") != "null"]
    if choices:
        (choice,) = choices
        schema.update(choice)
