"""A patient asks to move or cancel a booked appointment: staff see it; it stays booked until they act."""

from collections.abc import Awaitable, Callable

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.appointments import AppointmentKind, AppointmentStatus
from domain.results import AppointmentChangeRequest, AttentionResolution
from domain.stages import AttentionReason, Stage
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver
from workflows.pathway import PatientPathwayWorkflow

Start = Callable[..., Awaitable[PathwayDriver]]


async def _refused(pathway: PathwayDriver, update: object, arg: object) -> tuple[str | None, str]:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await pathway.step(update, arg)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.type, cause.message


async def test_a_change_request_waits_for_staff_and_leaves_the_appointment_booked(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await pathway.mri_review()
    exam = await pathway.booked(AppointmentKind.EXAM)
    request = AppointmentChangeRequest(appointment_id=exam.appointment_id, wish="reschedule", via="sms")
    asked = await pathway.step(PatientPathwayWorkflow.request_appointment_change, request)
    assert asked.attention_reasons == [AttentionReason.RESCHEDULE_REQUESTED]
    assert [(r.appointment_id, r.wish, r.via) for r in asked.change_requests] == [
        (exam.appointment_id, "reschedule", "sms")
    ]
    assert [a.status for a in asked.appointments] == [AppointmentStatus.BOOKED]  # until staff act
    await pathway.wait_for("staff told", lambda _: clinic.templates()["staff_attention"] >= 1)  # sent after
    assert clinic.templates()["staff_attention"] == 1

    again = await _refused(pathway, PatientPathwayWorkflow.request_appointment_change, request)
    assert again == ("WrongStage", "a change to this appointment is already requested")
    unknown = request.model_copy(update={"appointment_id": "no-such-appointment"})
    assert (await _refused(pathway, PatientPathwayWorkflow.request_appointment_change, unknown))[0] == (
        "UnknownAppointment"
    )

    # Staff move it (a cancellation books another slot), then record that they acted.
    await pathway.appointment_status(exam, AppointmentStatus.CANCELLED)
    await pathway.booked(AppointmentKind.EXAM, count=2)
    resolution = AttentionResolution(
        reason="reschedule_requested", note="moved to Friday", resolved_by="Front desk"
    )
    resolved = await pathway.step(PatientPathwayWorkflow.resolve_attention, resolution)
    assert (resolved.stage, resolved.needs_attention, resolved.change_requests) == (Stage.EXAM, False, [])
    other = resolution.model_copy(update={"reason": "red_flags"})
    assert (await _refused(pathway, PatientPathwayWorkflow.resolve_attention, other))[0] == "WrongStage"
