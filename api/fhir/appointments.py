"""A pathway's appointments as FHIR `Appointment` resources, each pointing at the pathway's `Task`."""

from typing import Any

from api.fhir.codes import APPOINTMENT_KIND_SYSTEM, coded, patient, task
from domain.appointments import Appointment, AppointmentStatus
from domain.view import PathwayView

APPOINTMENT_STATUS = {
    AppointmentStatus.BOOKED: "booked",
    AppointmentStatus.ARRIVED: "arrived",
    AppointmentStatus.NOSHOW: "noshow",
    AppointmentStatus.CANCELLED: "cancelled",
}
# How the patient stands to the appointment: a cancelled one is declined, the others accepted.
_PARTICIPATION = {AppointmentStatus.CANCELLED: "declined"}


def appointment_of(view: PathwayView, appointment: Appointment) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "id": appointment.appointment_id,
        "status": APPOINTMENT_STATUS[appointment.status],
        "serviceType": [coded(APPOINTMENT_KIND_SYSTEM, appointment.kind.value, appointment.kind.value)],
        "start": appointment.starts_at.isoformat(),
        "end": appointment.ends_at.isoformat(),
        "supportingInformation": [task(view.pathway_id)],
        "participant": [
            {
                "actor": patient(view.patient_ref),
                "status": _PARTICIPATION.get(appointment.status, "accepted"),
            }
        ],
    }


def appointments_of(view: PathwayView) -> list[dict[str, Any]]:
    return [appointment_of(view, a) for a in view.appointments]
