"""Appointments the pathway books, and what a booking asks of the scheduling system."""

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain.stages import Stage


class AppointmentKind(StrEnum):
    MRI = "mri"
    EXAM = "exam"
    BLOCK = "block"
    DVR = "dvr"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    NOSHOW = "noshow"
    CANCELLED = "cancelled"


class Appointment(BaseModel):
    model_config = ConfigDict(frozen=True)

    appointment_id: str
    kind: AppointmentKind
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    status: AppointmentStatus = AppointmentStatus.BOOKED

    def with_status(self, status: AppointmentStatus) -> "Appointment":
        return self.model_copy(update={"status": status})


class BookingRequest(BaseModel):
    """Book the first slot that fits `kind` at `clinic_site`, no earlier than `not_before` plus the kind's
    lead time. (pathway_id, kind, attempt) names the booking: asking again returns the same appointment."""

    model_config = ConfigDict(frozen=True)

    pathway_id: str
    clinic_site: str
    kind: AppointmentKind
    attempt: int
    not_before: datetime


class StatusChangeRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    appointment_id: str
    status: AppointmentStatus


_STAGE_APPOINTMENT = {
    Stage.MRI: AppointmentKind.MRI,
    Stage.EXAM: AppointmentKind.EXAM,
    Stage.BLOCK: AppointmentKind.BLOCK,
    Stage.DVR_SCHEDULED: AppointmentKind.DVR,
}


def appointment_kind_of(stage: Stage) -> AppointmentKind | None:
    """The appointment a stage waits on; its no-shows and cancellations are handled while in that stage."""
    return _STAGE_APPOINTMENT.get(stage)
