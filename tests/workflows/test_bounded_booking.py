"""Bookings are bounded: no slot, or too many cancellations, asks staff and waits with no timer."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.appointments import AppointmentKind, AppointmentStatus
from domain.config import CLINICAL
from domain.results import StaffRequest
from domain.stages import Actor, AttentionReason, Stage
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver
from workflows.pathway import PatientPathwayWorkflow

Start = Callable[..., Awaitable[PathwayDriver]]
STAFF = StaffRequest(requested_by="Front desk")


def _exam_calls(clinic: FakeClinic) -> int:
    return sum(r.kind == AppointmentKind.EXAM for r in clinic.booking_calls)


async def test_no_slot_is_tried_a_bounded_number_of_times_then_waits_for_staff(
    start: Start, clinic: FakeClinic
) -> None:
    clinic.no_slots.add("exam")
    pathway = await start()
    await pathway.mri_review()
    retries = CLINICAL.booking_retry_after * (CLINICAL.booking_tries - 1)
    await pathway.skip_to(await pathway.workflow_now() + retries + timedelta(minutes=1))
    waiting = await pathway.wait_for(
        "staff asked", lambda v: AttentionReason.NO_SLOT_AVAILABLE in v.attention_reasons
    )
    assert _exam_calls(clinic) == CLINICAL.booking_tries
    assert waiting.next_action is not None
    assert (waiting.next_action.actor, waiting.next_action.action) == (Actor.STAFF, "retry_booking")
    assert sum(e.event == "booking_failed" for e in waiting.timeline) == CLINICAL.booking_tries

    events_before = len((await pathway.handle.fetch_history()).events)
    await pathway.skip_to(await pathway.workflow_now() + timedelta(days=30))
    assert len((await pathway.handle.fetch_history()).events) == events_before, (
        "waiting for staff set a timer"
    )
    assert _exam_calls(clinic) == CLINICAL.booking_tries

    clinic.no_slots.discard("exam")
    await pathway.step(PatientPathwayWorkflow.retry_booking, STAFF)
    exam = await pathway.booked(AppointmentKind.EXAM)
    view = await pathway.view()
    assert view.appointments == [exam] and view.stage == Stage.EXAM
    assert AttentionReason.NO_SLOT_AVAILABLE not in view.attention_reasons and not view.needs_attention


async def test_retry_booking_is_refused_when_no_booking_waits(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.mri_review()
    await pathway.booked(AppointmentKind.EXAM)
    accepted = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    before = sum(e.event_type == accepted for e in (await pathway.handle.fetch_history()).events)
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await pathway.step(PatientPathwayWorkflow.retry_booking, STAFF)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.message) == ("WrongStage", "no booking is waiting for staff")
    after = sum(e.event_type == accepted for e in (await pathway.handle.fetch_history()).events)
    assert after == before


async def test_too_many_cancellations_wait_for_staff(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.mri_review()
    limit = CLINICAL.max_cancellation_rebookings
    for count in range(1, limit + 2):
        exam = await pathway.booked(AppointmentKind.EXAM, count)
        await pathway.appointment_status(exam, AppointmentStatus.CANCELLED)
    waiting = await pathway.wait_for(
        "staff asked", lambda v: AttentionReason.TOO_MANY_CANCELLATIONS in v.attention_reasons
    )
    assert _exam_calls(clinic) == limit + 1
    assert waiting.status == "active" and waiting.stage == Stage.EXAM

    await pathway.step(PatientPathwayWorkflow.retry_booking, STAFF)
    rebooked = await pathway.booked(AppointmentKind.EXAM, limit + 2)
    assert rebooked.status == AppointmentStatus.BOOKED
    assert AttentionReason.TOO_MANY_CANCELLATIONS not in (await pathway.view()).attention_reasons
