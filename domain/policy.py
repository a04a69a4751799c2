"""A clinic's policy: the public contract of `GET`/`PUT /v1/clinics/{clinic_site}/policy`, and its mapping
onto the pathway configuration (domain/config.py `PathwayConfig`).

The policy is what a clinic may choose; the configuration is everything a workflow runs on. They are kept
apart so that the configuration can grow (or be restructured) without changing the API. Durations are ISO
8601 strings (`"PT2H"`, `"P3D"`), in days, hours, minutes and seconds only (a month has no fixed length).

Mapping: each policy field names the configuration field it sets (`_ONTO_RELIEF`, `_ONTO_PATHWAY`). A policy
field whose configuration field does not exist yet (the workflow does not use it yet) is kept in the stored
policy and shown, and takes effect once the configuration gains the field of that name: adding one is a
line in a table.
"""

import functools
import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    PlainSerializer,
    StrictInt,
    WithJsonSchema,
)

from domain.config import CLINICAL, PathwayConfig, Profile, ReliefPolicy, ReliefThreshold, demo_of
from domain.contract import ContractModel
from domain.fields import Flag, LocalHour
from domain.quiet_hours import QuietHours

_ISO_DURATION = re.compile(
    r"^P(?:([0-9]{1,6})D)?(?:T(?:([0-9]{1,6})H)?(?:([0-9]{1,6})M)?(?:([0-9]{1,6})S)?)?$"
)
ISO_DURATION_PATTERN = _ISO_DURATION.pattern


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):  # from code
        return value
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 duration string, such as PT2H or P3D")
    match = _ISO_DURATION.fullmatch(value)
    if match is None or value in ("P", "PT") or value.endswith("T"):
        raise ValueError(
            "must be an ISO 8601 duration in days, hours, minutes and seconds, such as PT2H or P3D"
        )
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _iso(value: timedelta) -> str:
    """`P1DT2H30M`: days, then hours, minutes and seconds (whole seconds)."""
    total = int(value.total_seconds())
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    text = f"P{days}D" if days else "P"
    return f"{text}T{clock}" if clock else (text if days else "PT0S")


def _duration_schema(description: str, low: timedelta, high: timedelta) -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": ISO_DURATION_PATTERN,
        "description": f"{description}; ISO 8601, from {_iso(low)} to {_iso(high)}",
        "examples": [_iso(high)],
    }


def _within(low: timedelta, high: timedelta) -> AfterValidator:
    def check(value: timedelta) -> timedelta:
        if not low <= value <= high:
            raise ValueError(f"must be from {_iso(low)} to {_iso(high)}")
        return value

    return AfterValidator(check)


_ONSET_MIN, _ONSET_MAX = timedelta(minutes=15), timedelta(hours=6)
_DEADLINE_MIN, _DEADLINE_MAX = timedelta(hours=1), timedelta(days=30)

OnsetWindow = Annotated[
    timedelta,
    BeforeValidator(_duration),
    _within(_ONSET_MIN, _ONSET_MAX),
    PlainSerializer(_iso, return_type=str),
    WithJsonSchema(
        _duration_schema("A run of relief must begin within this time of the block", _ONSET_MIN, _ONSET_MAX)
    ),
]
Deadline = Annotated[
    timedelta,
    BeforeValidator(_duration),
    _within(_DEADLINE_MIN, _DEADLINE_MAX),
    PlainSerializer(_iso, return_type=str),
    WithJsonSchema(_duration_schema("A clinician's deadline", _DEADLINE_MIN, _DEADLINE_MAX)),
]


def _threshold(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("the relief threshold is the number 0.5, 0.8 or 1.0")
    return float(value)


Threshold = Annotated[
    ReliefThreshold,
    BeforeValidator(_threshold),
    WithJsonSchema({"type": "number", "enum": [0.5, 0.8, 1.0], "description": "50, 80 or 100 % relief"}),
]


class ClinicPolicy(ContractModel):
    """What a clinic chooses for its pathways. A PUT is a full replacement: a field left out takes the
    deployment's default (`default_policy`)."""

    relief_threshold: Threshold = Field(default=CLINICAL.relief.threshold)
    onset_window: OnsetWindow = timedelta(hours=2)
    comparative_blocks: Flag = Field(
        default=False, description="A positive first (lidocaine) block is followed by a second (bupivacaine)"
    )
    repeat_blocks_allowed: Annotated[StrictInt, Field(ge=0, le=3)] = CLINICAL.relief.repeat_blocks_allowed
    mri_review_due: Deadline = CLINICAL.mri_review_due
    exam_result_due: Deadline = CLINICAL.exam_result_due
    block_record_due: Deadline = CLINICAL.block_record_due
    candidacy_decision_due: Deadline = CLINICAL.candidacy_decision_due
    procedure_record_due: Deadline = CLINICAL.procedure_record_due
    reminder_local_hour: LocalHour = CLINICAL.reminder_local_hour
    follow_up_local_hour: LocalHour = CLINICAL.follow_up_local_hour
    # The configuration has none by default (a pathway started without a policy holds nothing back); a
    # clinic's policy has these unless the clinic turns them off.
    quiet_hours: QuietHours | None = QuietHours(start_hour=21, end_hour=8)


# policy field -> the configuration field it sets (applied only where the configuration has that field)
_ONTO_RELIEF = {
    "relief_threshold": "threshold",
    "onset_window": "onset_window",
    "repeat_blocks_allowed": "repeat_blocks_allowed",
}
_ONTO_PATHWAY = {
    "comparative_blocks": "comparative_blocks",
    "mri_review_due": "mri_review_due",
    "exam_result_due": "exam_result_due",
    "block_record_due": "block_record_due",
    "candidacy_decision_due": "candidacy_decision_due",
    "procedure_record_due": "procedure_record_due",
    "reminder_local_hour": "reminder_local_hour",
    "follow_up_local_hour": "follow_up_local_hour",
    "quiet_hours": "quiet_hours",
}


def default_policy(relief_threshold: float | None = None, profile: Profile = "clinical") -> ClinicPolicy:
    """A new clinic's policy: the clinical defaults, with the relief threshold the deployment selected. The
    demo profile's clinics start without quiet hours: a whole demo pathway runs in minutes, and a newcomer
    trying it at night should see it move. A demo clinic whose policy sets quiet hours has them."""
    overrides: dict[str, Any] = {}
    if relief_threshold is not None:
        overrides["relief_threshold"] = relief_threshold
    if profile == "demo":
        overrides["quiet_hours"] = None
    return ClinicPolicy(**overrides)


def _onto(model: Any, policy: ClinicPolicy, table: dict[str, str]) -> Any:
    fields = type(model).model_fields
    # A nested policy model goes over as plain data, for the configuration's own model of it to read.
    values = {name: policy.model_dump()[name] if isinstance(v, BaseModel) else v for name, v in policy}
    update = {target: values[source] for source, target in table.items() if target in fields}
    # Validated again, so the configuration's own rules hold for the values the policy brings.
    return type(model).model_validate({**model.model_dump(), **update})


@functools.lru_cache(maxsize=256)
def pathway_config(policy: ClinicPolicy, profile: Profile) -> PathwayConfig:
    """The configuration a pathway of the clinic starts with: the clinical configuration with the policy
    applied, compressed for the demo profile.

    Kept per policy: both models are frozen, and a clinic's policy changes seldom while each referral needs
    its configuration (about 4 % of the API's CPU a referral when built each time)."""
    relief = _onto(CLINICAL.relief, policy, _ONTO_RELIEF)
    assert isinstance(relief, ReliefPolicy)
    clinical = _onto(CLINICAL, policy, _ONTO_PATHWAY).model_copy(update={"relief": relief})
    assert isinstance(clinical, PathwayConfig)
    return demo_of(clinical) if profile == "demo" else clinical
