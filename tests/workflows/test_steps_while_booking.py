"""A step for the stage the view shows is accepted while that stage's appointment is being booked: it
waits for the booking (or the rebooking, or staff finding a slot), then is applied."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowUpdateHandle, WorkflowUpdateStage

from domain.answers import StepAccepted
from domain.appointments import AppointmentKind, AppointmentStatus
from domain.config import CLINICAL
from domain.results import ExamResult, StaffRequest
from domain.stages import AttentionReason, PathwayStatus, Stage
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver
from workflows.pathway import PatientPathwayWorkflow

Start = Callable[..., Awaitable[PathwayDriver]]
EXAM = ExamResult(palpation_concordant=True, levels=["L4-L5"], examined_by="Dr. Physician")


async def _send_exam(pathway: PathwayDriver) -> WorkflowUpdateHandle[Any]:
    """Sends the exam and returns once the pathway has accepted it (a refusal raises here)."""
    return await pathway.handle.start_update(
        PatientPathwayWorkflow.record_exam, EXAM, wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )


async def test_an_exam_sent_while_its_booking_is_under_way_is_applied_once_booked(
    start: Start, clinic: FakeClinic
) -> None:
    clinic.hold("booking:exam")  # the calendar is slow to answer
    pathway = await start()
    await pathway.mri_review()
    await pathway.wait_for("booking the exam", lambda _: clinic.waiting("booking:exam") == 1)
    assert (await pathway.view()).stage == Stage.EXAM

    exam = await _send_exam(pathway)
    view = await pathway.view()
    assert view.criteria.exam_concordant is None and view.appointments == []

    clinic.release("booking:exam")
    assert await exam.result() == StepAccepted(stage=Stage.BLOCK, status=PathwayStatus.ACTIVE)
    view = await pathway.view()
    assert view.criteria.exam_concordant is True
    assert [a.kind for a in view.appointments][:1] == [AppointmentKind.EXAM]


async def test_an_exam_sent_while_a_no_show_is_rebooked_waits_for_the_new_booking(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await pathway.mri_review()
    missed = await pathway.booked(AppointmentKind.EXAM)
    clinic.hold("booking:exam")
    await pathway.appointment_status(missed, AppointmentStatus.NOSHOW)
    await pathway.wait_for("rebooking the exam", lambda _: clinic.waiting("booking:exam") == 1)

    exam = await _send_exam(pathway)
    assert (await pathway.view()).criteria.exam_concordant is None

    clinic.release("booking:exam")
    assert (await exam.result()).stage == Stage.BLOCK
    exams = [a for a in (await pathway.view()).appointments if a.kind == AppointmentKind.EXAM]
    assert [a.status for a in exams] == [AppointmentStatus.NOSHOW, AppointmentStatus.BOOKED]


async def test_an_exam_sent_while_the_booking_waits_for_staff_is_applied_after_their_retry(
    start: Start, clinic: FakeClinic
) -> None:
    clinic.no_slots.add("exam")
    pathway = await start()
    await pathway.mri_review()
    retries = CLINICAL.booking_retry_after * (CLINICAL.booking_tries - 1)
    await pathway.skip_to(await pathway.workflow_now() + retries + timedelta(minutes=1))
    await pathway.wait_for("staff asked", lambda v: AttentionReason.NO_SLOT_AVAILABLE in v.attention_reasons)

    exam = await _send_exam(pathway)  # waiting is right: the API answers step-pending until a slot is found
    assert (await pathway.view()).criteria.exam_concordant is None

    clinic.no_slots.discard("exam")
    await pathway.step(PatientPathwayWorkflow.retry_booking, StaffRequest(requested_by="Front desk"))
    assert (await exam.result()).stage == Stage.BLOCK
    assert (await pathway.view()).criteria.exam_concordant is True
