"""The events upstream systems hear of by webhook (README "Webhooks"), derived from what a pathway shows.

The pathway compares what it shows now with what it showed when it last recorded events (`PathwayShape`)
and records one event per change (`changes`), in the workflow task that made the change. An event carries
its id, type, time, the pathway id and `patient_ref`, and the fields that changed: codes, instants and
appointment ids, never free text or anything else about the patient.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.appointments import Appointment
from domain.stages import AttentionReason, Outcome, PathwayStatus, ReliefResult, Stage


class EventType(StrEnum):
    PATHWAY_STARTED = "pathway.started"
    STAGE_CHANGED = "pathway.stage_changed"
    ATTENTION_RAISED = "pathway.attention_raised"
    ATTENTION_CLEARED = "pathway.attention_cleared"
    APPOINTMENT_BOOKED = "appointment.booked"
    APPOINTMENT_CHANGED = "appointment.changed"
    RELIEF_CHECK_EVALUATED = "relief_check.evaluated"
    PATHWAY_COMPLETED = "pathway.completed"
    PATHWAY_CLOSED = "pathway.closed"


@dataclass(frozen=True)
class PathwayShape:
    """What a pathway shows upstream systems; None before it started."""

    stage: Stage
    status: PathwayStatus
    outcome: Outcome | None
    attention: tuple[AttentionReason, ...]
    appointments: tuple[Appointment, ...]
    block_results: tuple[tuple[int, ReliefResult], ...]
    """(block number, result) of each relief check that has given its verdict."""


class EventDraft(BaseModel):
    """An event before the workflow gives it an id and a time."""

    model_config = ConfigDict(frozen=True)

    type: EventType
    data: dict[str, Any]


class WebhookEvent(BaseModel):
    """An event as receivers get it: the body of the webhook."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: EventType
    time: AwareDatetime
    pathway_id: str
    patient_ref: str
    sequence: int = Field(ge=1)
    """The event's place among its pathway's events: 1, 2, 3..., with no gaps."""
    data: dict[str, Any]


class PathwayEvents(BaseModel):
    """The events one workflow task caused, in the order they happened (the outbox activity's input)."""

    model_config = ConfigDict(frozen=True)

    pathway_id: str
    clinic_site: str
    events: list[WebhookEvent]


def changes(before: PathwayShape | None, after: PathwayShape) -> list[EventDraft]:
    """The events that take a pathway from `before` to `after`, in the order a reader would tell them: the
    start, verdicts and appointment changes, then the stage that follows from them, new bookings, attention,
    and last the end."""
    drafts: list[EventDraft] = []
    if before is None:
        drafts.append(_draft(EventType.PATHWAY_STARTED, stage=after.stage.value))
        before = PathwayShape(after.stage, PathwayStatus.ACTIVE, None, (), (), ())
    known = dict(before.block_results)
    for block_number, result in after.block_results:
        if known.get(block_number) != result:
            drafts.append(
                _draft(EventType.RELIEF_CHECK_EVALUATED, block_number=block_number, result=result.value)
            )
    booked = {a.appointment_id: a for a in before.appointments}
    for appointment in after.appointments:
        earlier = booked.get(appointment.appointment_id)
        if earlier is not None and earlier != appointment:
            drafts.append(_appointment_changed(earlier, appointment))
    ended = after.status != PathwayStatus.ACTIVE and before.status == PathwayStatus.ACTIVE
    if after.stage != before.stage and not ended:
        drafts.append(
            _draft(EventType.STAGE_CHANGED, stage={"from": before.stage.value, "to": after.stage.value})
        )
    for appointment in after.appointments:
        if appointment.appointment_id not in booked:
            drafts.append(_draft(EventType.APPOINTMENT_BOOKED, **_appointment(appointment)))
    raised = [r.value for r in after.attention if r not in before.attention]
    cleared = [r.value for r in before.attention if r not in after.attention]
    now = [r.value for r in after.attention]
    if raised:
        drafts.append(_draft(EventType.ATTENTION_RAISED, reasons=raised, attention_reasons=now))
    if cleared:
        drafts.append(_draft(EventType.ATTENTION_CLEARED, reasons=cleared, attention_reasons=now))
    if ended:
        kind = (
            EventType.PATHWAY_COMPLETED
            if after.status == PathwayStatus.COMPLETED
            else EventType.PATHWAY_CLOSED
        )
        outcome = after.outcome.value if after.outcome is not None else None
        drafts.append(
            _draft(kind, stage={"from": before.stage.value, "to": after.stage.value}, outcome=outcome)
        )
    return drafts


def _draft(event_type: EventType, /, **data: Any) -> EventDraft:
    return EventDraft(type=event_type, data=data)


def _appointment(appointment: Appointment) -> dict[str, Any]:
    return {
        "appointment_id": appointment.appointment_id,
        "kind": appointment.kind.value,
        "starts_at": _instant(appointment.starts_at),
        "ends_at": _instant(appointment.ends_at),
        "status": appointment.status.value,
    }


def _appointment_changed(before: Appointment, after: Appointment) -> EventDraft:
    old, new = _appointment(before), _appointment(after)
    changed = {name: {"from": old[name], "to": value} for name, value in new.items() if old[name] != value}
    return _draft(
        EventType.APPOINTMENT_CHANGED,
        appointment_id=after.appointment_id,
        kind=after.kind.value,
        changes=changed,
    )


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
