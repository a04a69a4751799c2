"""Appointment no-shows and cancellations, clinician deadlines, and the relief check's other results."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.appointments import Appointment, AppointmentKind, AppointmentStatus
from domain.config import CLINICAL, DEMO
from domain.relief import diary_window_end
from domain.results import AppointmentStatusChange, PainReport
from domain.stages import Actor, Outcome, PathwayStatus, ReliefResult, Stage
from domain.view import PathwayView
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver
from workflows.pathway import PatientPathwayWorkflow

Start = Callable[..., Awaitable[PathwayDriver]]

POSITIVE_DIARY = [(timedelta(minutes=15), 1), (timedelta(hours=1), 1), (timedelta(hours=2), 7)]
TOO_FEW_REPORTS = [(timedelta(minutes=15), 2), (timedelta(minutes=30), 2)]


async def _skip_past_diary_window(pathway: PathwayDriver) -> None:
    performed_at = (await pathway.view()).relief_check.performed_at
    assert performed_at is not None
    await pathway.skip_to(diary_window_end(performed_at, CLINICAL.relief) + timedelta(minutes=1))


def _of_kind(view: PathwayView, kind: AppointmentKind) -> list[Appointment]:
    return [a for a in view.appointments if a.kind == kind]


def _staff_told(clinic: FakeClinic, reason: str) -> bool:
    return any(
        m.template == "staff_attention" and m.recipient == "staff" and m.params.get("reason") == reason
        for m in clinic.messages
    )


async def _to_relief_check(pathway: PathwayDriver, baseline: int = 8) -> PathwayView:
    await pathway.mri_review()
    await pathway.exam()
    return await pathway.block(baseline=baseline)


async def test_exam_no_show_is_rebooked_until_the_limit_then_closes_no_show(
    start: Start, clinic: FakeClinic
) -> None:
    assert CLINICAL.max_no_show_rebookings == 2
    pathway = await start()
    await pathway.mri_review()
    first = await pathway.booked(AppointmentKind.EXAM)
    assert clinic.bookings[(pathway.handle.id, "exam", 1)] == first

    await pathway.appointment_status(first, AppointmentStatus.NOSHOW)
    second = await pathway.booked(AppointmentKind.EXAM, 2)
    assert second.appointment_id != first.appointment_id
    assert clinic.bookings[(pathway.handle.id, "exam", 2)] == second
    view = await pathway.view()
    assert view.stage == Stage.EXAM and view.status == PathwayStatus.ACTIVE
    assert [a.status for a in _of_kind(view, AppointmentKind.EXAM)] == [
        AppointmentStatus.NOSHOW,
        AppointmentStatus.BOOKED,
    ]
    assert [(c.appointment_id, c.status) for c in clinic.status_changes] == [
        (first.appointment_id, AppointmentStatus.NOSHOW)
    ]
    assert view.next_action is not None and view.next_action.action == "exam"

    await pathway.appointment_status(second, AppointmentStatus.NOSHOW)
    third = await pathway.booked(AppointmentKind.EXAM, 3)
    assert clinic.bookings[(pathway.handle.id, "exam", 3)] == third
    assert (await pathway.view()).status == PathwayStatus.ACTIVE

    await pathway.appointment_status(third, AppointmentStatus.NOSHOW)  # the third no-show: over the limit
    final = await pathway.result()
    assert (final.stage, final.status, final.outcome) == (Stage.CLOSED, PathwayStatus.CLOSED, Outcome.NO_SHOW)
    assert final.outcome_reason == "exam appointment missed 3 times"
    assert [a.status for a in final.appointments] == [AppointmentStatus.NOSHOW] * 3
    assert (pathway.handle.id, "exam", 4) not in clinic.bookings
    assert [(c.appointment_id, c.status) for c in clinic.status_changes] == [
        (a.appointment_id, AppointmentStatus.NOSHOW) for a in (first, second, third)
    ]
    assert clinic.templates()["pathway_closed"] == 1


async def test_cancelled_dvr_is_rebooked_and_the_pathway_still_completes(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await _to_relief_check(pathway)
    await pathway.diary(POSITIVE_DIARY)
    await pathway.decide(approved=True)

    cancelled = await pathway.procedure("cancelled")
    assert cancelled.stage == Stage.DVR_SCHEDULED
    # The rebooking may already show in the view read after the Update: the first DVR is the cancelled one.
    first = _of_kind(cancelled, AppointmentKind.DVR)[0]
    assert first.status == AppointmentStatus.CANCELLED

    second = await pathway.booked(AppointmentKind.DVR, 2)
    assert second.appointment_id != first.appointment_id
    assert clinic.bookings[(pathway.handle.id, "dvr", 2)] == second
    view = await pathway.view()
    assert [a.status for a in _of_kind(view, AppointmentKind.DVR)] == [
        AppointmentStatus.CANCELLED,
        AppointmentStatus.BOOKED,
    ]
    assert (first.appointment_id, AppointmentStatus.CANCELLED) in [
        (c.appointment_id, c.status) for c in clinic.status_changes
    ]
    assert any(e.event == "procedure_cancelled" for e in view.timeline)

    done = await pathway.procedure("completed", count=2)
    assert done.stage == Stage.FOLLOW_UP
    await pathway.follow_up(pain=1)

    final = await pathway.result()
    assert (final.stage, final.status, final.outcome) == (
        Stage.COMPLETED,
        PathwayStatus.COMPLETED,
        Outcome.DVR_COMPLETED,
    )
    assert [a.kind for a in final.appointments] == [
        AppointmentKind.EXAM,
        AppointmentKind.BLOCK,
        AppointmentKind.DVR,
        AppointmentKind.DVR,
    ]
    sent = clinic.templates()
    assert sent["preop_instructions"] == 2
    assert len({m.key for m in clinic.messages}) == len(clinic.messages), "a message key was sent twice"


async def test_late_mri_review_needs_attention_until_recorded(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()  # a recent MRI is on file: nothing to book, the review is due from now
    waiting = await pathway.wait_for(
        "mri review due", lambda v: v.next_action is not None and v.next_action.action == "mri_review"
    )
    assert waiting.appointments == []
    assert waiting.next_action is not None and waiting.next_action.due_at is not None
    due_at = waiting.next_action.due_at
    assert due_at - await pathway.workflow_now() <= CLINICAL.mri_review_due

    await pathway.skip_to(due_at - timedelta(minutes=5))
    early = await pathway.view()
    assert early.needs_attention is False and early.attention_reasons == []

    await pathway.skip_to(due_at + timedelta(minutes=1))
    late = await pathway.wait_for("mri review overdue", lambda v: "mri_review_overdue" in v.attention_reasons)
    assert late.needs_attention is True
    assert late.stage == Stage.MRI
    assert late.next_action is not None
    assert (late.next_action.actor, late.next_action.action) == (Actor.CLINICIAN, "mri_review")
    await pathway.wait_for("staff told", lambda _: _staff_told(clinic, "mri review overdue"))

    reviewed = await pathway.mri_review(swelling=True)
    assert reviewed.stage == Stage.EXAM
    assert reviewed.needs_attention is False
    assert "mri_review_overdue" not in reviewed.attention_reasons
    assert [e.event for e in reviewed.timeline].count("needs_attention") == 1
    assert any(e.event == "attention_cleared" and e.detail == "mri review overdue" for e in reviewed.timeline)
    assert clinic.templates()["staff_attention"] == 1


async def test_indeterminate_block_goes_to_the_clinician_who_books_a_repeat(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    first_block = await _to_relief_check(pathway)
    assert first_block.relief_check.block_number == 1
    await pathway.diary(TOO_FEW_REPORTS)
    await _skip_past_diary_window(pathway)

    asked = await pathway.wait_for("candidacy", lambda v: v.stage == Stage.CANDIDACY)
    assert asked.relief_check.result == ReliefResult.INDETERMINATE
    assert asked.criteria.block_positive is None
    assert asked.next_action is not None and asked.next_action.actor == Actor.CLINICIAN
    assert len(_of_kind(asked, AppointmentKind.BLOCK)) == 1

    await pathway.decide(approved=False, repeat_block=True)
    second = await pathway.booked(AppointmentKind.BLOCK, 2)
    view = await pathway.view()
    assert view.stage == Stage.BLOCK and view.status == PathwayStatus.ACTIVE
    assert any(e.event == "repeat_block_chosen" and "Dr. Surgeon" in e.detail for e in view.timeline)
    assert clinic.bookings[(pathway.handle.id, "block", 2)] == second
    assert clinic.templates()["block_preparation"] == 2

    second_block = await pathway.block(count=2)
    assert second_block.stage == Stage.RELIEF_CHECK
    assert second_block.relief_check.block_number == 2
    assert second_block.relief_check.reports == []
    await pathway.diary(TOO_FEW_REPORTS)
    await _skip_past_diary_window(pathway)
    again = await pathway.wait_for("candidacy again", lambda v: v.stage == Stage.CANDIDACY)
    assert again.relief_check.block_number == 2

    # The policy's one repeat is used: a third block needs an override reason.
    assert CLINICAL.relief.repeat_blocks_allowed == 1
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pathway.decide(approved=False, repeat_block=True)
    assert isinstance(refused.value.cause, ApplicationError) and refused.value.cause.type == "InvalidStep"

    await pathway.decide(approved=False)
    final = await pathway.result()
    assert (final.stage, final.status, final.outcome) == (
        Stage.CLOSED,
        PathwayStatus.CLOSED,
        Outcome.NOT_CANDIDATE,
    )
    assert final.relief_check.result == ReliefResult.INDETERMINATE
    assert (pathway.handle.id, "block", 3) not in clinic.bookings


async def test_a_repeat_past_the_policy_is_booked_with_an_override_reason(
    start: Start, clinic: FakeClinic
) -> None:
    config = CLINICAL.model_copy(
        update={"relief": CLINICAL.relief.model_copy(update={"repeat_blocks_allowed": 0})}
    )
    pathway = await start(config=config)
    await _to_relief_check(pathway)
    await pathway.diary(TOO_FEW_REPORTS)
    await _skip_past_diary_window(pathway)
    with pytest.raises(WorkflowUpdateFailedError):
        await pathway.decide(approved=False, repeat_block=True)
    await pathway.decide(approved=False, repeat_block=True, override_reason="the diary app failed")
    await pathway.booked(AppointmentKind.BLOCK, 2)
    await pathway.withdraw()


async def test_no_diary_reports_by_two_hours_asks_staff_to_call(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    recorded = await _to_relief_check(pathway)
    performed_at = recorded.relief_check.performed_at
    assert performed_at is not None
    silence_after = CLINICAL.relief.silence_alert_after
    assert silence_after == timedelta(hours=2)

    await pathway.skip_to(performed_at + silence_after - timedelta(minutes=5))
    quiet = await pathway.view()
    assert "no_diary_reports" not in quiet.attention_reasons

    await pathway.skip_to(performed_at + silence_after + timedelta(minutes=1))
    silent = await pathway.wait_for("no diary reports", lambda v: "no_diary_reports" in v.attention_reasons)
    assert silent.needs_attention is True
    assert silent.stage == Stage.RELIEF_CHECK
    assert silent.relief_check.reports == []
    await pathway.wait_for("staff told", lambda _: _staff_told(clinic, "no diary reports"))
    assert clinic.templates()["staff_attention"] == 1

    answered = await pathway.pain_report(PainReport(pain=6))  # a late first report stands the call down
    answered = await pathway.wait_for(
        "attention cleared", lambda v: "no_diary_reports" not in v.attention_reasons
    )
    assert "no_diary_reports" not in answered.attention_reasons
    assert answered.needs_attention is False


async def test_prolonged_relief_goes_to_candidacy_for_the_clinician(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await _to_relief_check(pathway, baseline=8)
    # At the threshold (87.5 %) from +15 min through the +8 h prompt; 75 % when answering the +24 h check.
    return_check = CLINICAL.relief.return_check_offset + timedelta(minutes=5)
    await pathway.diary(
        [
            (timedelta(minutes=15), 1),
            (timedelta(hours=1), 1),
            (timedelta(hours=8), 1),
            (return_check, 2),
        ]
    )
    view = await pathway.wait_for(
        "candidacy decision due",
        lambda v: v.next_action is not None and v.next_action.action == "candidacy_decision",
    )
    assert view.stage == Stage.CANDIDACY and view.status == PathwayStatus.ACTIVE
    assert view.relief_check.result == ReliefResult.PROLONGED
    assert view.relief_check.peak_relief_pct == 88
    assert (view.relief_check.onset_minutes, view.relief_check.relief_duration_minutes) == (15, 7 * 60 + 45)
    # The return check's answer is shown apart from the diary.
    performed_at = view.relief_check.performed_at
    assert performed_at is not None
    returned_at = view.relief_check.returned_at
    assert returned_at is not None
    assert timedelta(0) <= returned_at - (performed_at + return_check) < timedelta(seconds=1)  # when it came
    assert view.relief_check.return_check_pain == 2
    assert [r.pain for r in view.relief_check.reports] == [1, 1, 1]
    assert view.criteria.block_positive is None
    assert view.next_action is not None
    assert (view.next_action.actor, view.next_action.action) == (Actor.CLINICIAN, "candidacy_decision")
    assert "no_diary_reports" not in view.attention_reasons
    assert clinic.templates()["return_check"] == 1


async def test_a_diary_that_stops_early_is_indeterminate_whatever_the_return_check_says(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await _to_relief_check(pathway, baseline=8)
    # Relief from +15 min to +3 h, then silence until the +24 h check, which reports the usual pain: the
    # return is not in the diary, so the verdict is not positive (nor prolonged: silence is missing data).
    await pathway.diary(
        [
            (timedelta(minutes=15), 1),
            (timedelta(hours=1), 1),
            (timedelta(hours=3), 1),
            (CLINICAL.relief.return_check_offset + timedelta(minutes=5), 8),
        ]
    )
    view = await pathway.wait_for("the diary judged", lambda v: v.relief_check.result is not None)
    assert view.relief_check.result == ReliefResult.INDETERMINATE
    assert view.relief_check.return_check_pain == 8
    assert view.relief_check.onset_minutes == 15
    assert view.relief_check.relief_duration_minutes == 165
    assert view.criteria.block_positive is None
    assert view.stage == Stage.CANDIDACY  # the clinician decides on an indeterminate block


async def test_status_change_for_unknown_appointment_is_refused(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.mri_review()
    exam = await pathway.booked(AppointmentKind.EXAM)
    before = await pathway.view()
    history = await pathway.handle.fetch_history()
    accepted_before = sum(
        e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED for e in history.events
    )

    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await pathway.step(
            PatientPathwayWorkflow.record_appointment_status,
            AppointmentStatusChange(appointment_id="no-such-appointment", status="noshow"),
        )
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "UnknownAppointment"
    assert cause.message == "no such appointment on this pathway"

    after = await pathway.view()
    assert after == before
    assert after.appointments == [exam]
    assert after.stage == Stage.EXAM
    assert clinic.status_changes == []
    assert (pathway.handle.id, "exam", 2) not in clinic.bookings
    history = await pathway.handle.fetch_history()
    accepted_after = sum(
        e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED for e in history.events
    )
    assert accepted_after == accepted_before


async def test_a_no_show_before_the_appointment_starts_is_refused(start: Start, clinic: FakeClinic) -> None:
    """A no-show recorded before the appointment has begun would rebook it, and three close the pathway:
    refused (409) and nothing changes, until the appointment's start."""
    pathway = await start()
    await pathway.mri_review()
    exam = await pathway.booked(AppointmentKind.EXAM)
    assert exam.starts_at > await pathway.workflow_now()
    before = await pathway.view()

    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await pathway.step(
            PatientPathwayWorkflow.record_appointment_status,
            AppointmentStatusChange(appointment_id=exam.appointment_id, status="noshow"),
        )
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "WrongStage"
    assert cause.message == "the appointment has not started yet: a no-show is recorded once it has"
    assert await pathway.view() == before
    assert clinic.status_changes == []
    assert (pathway.handle.id, "exam", 2) not in clinic.bookings

    await pathway.skip_to(exam.starts_at)
    await pathway.appointment_status(exam, AppointmentStatus.NOSHOW)
    assert await pathway.booked(AppointmentKind.EXAM, 2) != exam
    assert [(c.appointment_id, c.status) for c in clinic.status_changes] == [
        (exam.appointment_id, AppointmentStatus.NOSHOW)
    ]


async def test_the_demo_profile_takes_a_no_show_before_the_appointments_nominal_time(
    start: Start, clinic: FakeClinic
) -> None:
    """The demo's clock runs ahead of its appointments' calendar slots (its deadlines count from now): a
    no-show is taken when staff record it, as every other step there is."""
    assert DEMO.deadlines_follow_calendar is False
    pathway = await start(config=DEMO)
    await pathway.mri_review()
    exam = await pathway.booked(AppointmentKind.EXAM)
    assert exam.starts_at > await pathway.workflow_now()
    await pathway.step(
        PatientPathwayWorkflow.record_appointment_status,
        AppointmentStatusChange(appointment_id=exam.appointment_id, status="noshow"),
    )
    assert await pathway.booked(AppointmentKind.EXAM, 2) != exam
