"""Validators refuse wrong-stage and invalid steps before they reach history."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.appointments import AppointmentKind
from domain.results import (
    BlockRecord,
    CandidacyDecision,
    ExamResult,
    MriReview,
    PainReport,
    ProcedureRecord,
    ScreeningReview,
    Withdrawal,
)
from domain.stages import Stage
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import SAFE, PathwayDriver
from workflows.pathway import PatientPathwayWorkflow
from workflows.relief_check import ReliefCheckWorkflow

Start = Callable[..., Awaitable[PathwayDriver]]
POSITIVE = [(timedelta(minutes=15), 0), (timedelta(hours=1), 0), (timedelta(hours=3), 8)]
NEGATIVE = [(timedelta(minutes=15), 7), (timedelta(minutes=30), 6), (timedelta(hours=1), 7)]


async def _refusal(pathway: PathwayDriver, update: object, arg: object) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await pathway.handle.execute_update(update, arg)  # type: ignore[call-overload]
    assert isinstance(failed.value.cause, ApplicationError)
    return failed.value.cause


async def _accepted_updates(pathway: PathwayDriver) -> int:
    history = await pathway.handle.fetch_history()
    return sum(
        e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED for e in history.events
    )


async def test_step_at_wrong_stage_is_refused_and_not_recorded(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.wait_for("mri", lambda v: v.stage == Stage.MRI)
    refusal = await _refusal(
        pathway,
        PatientPathwayWorkflow.record_exam,
        ExamResult(palpation_concordant=True, levels=["L4-L5"], examined_by="Dr. Early"),
    )
    assert refusal.type == "WrongStage"
    assert refusal.message == "exam is recorded in exam, not mri"
    assert await _accepted_updates(pathway) == 0
    assert (await pathway.view()).criteria.exam_concordant is None


async def test_pain_report_times_are_bounded_by_the_block_and_the_clock(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    performed_at = await pathway.to_relief_check()
    diary = pathway.relief_check()
    now = await pathway.workflow_now()
    for recorded_at, message in (
        (now + timedelta(hours=1), "recorded_at is in the future"),
        (performed_at - timedelta(minutes=1), "recorded_at is before the block was performed"),
    ):
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await diary.execute_update(
                ReliefCheckWorkflow.record_pain_report, PainReport(pain=2, recorded_at=recorded_at)
            )
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError)
        assert (cause.type, cause.message) == ("InvalidStep", message)
    assert (await pathway.view()).relief_check.reports == []
    within = await pathway.pain_report(PainReport(pain=2, recorded_at=now + timedelta(minutes=4)))
    assert [r.pain for r in within.relief_check.reports] == [2]


async def test_block_in_the_future_is_invalid(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.mri_review()
    await pathway.exam()
    await pathway.booked(AppointmentKind.BLOCK)
    future = await pathway.workflow_now() + timedelta(days=30)
    refusal = await _refusal(
        pathway,
        PatientPathwayWorkflow.record_block,
        BlockRecord(
            performed_at=future,
            anesthetic="lidocaine",
            levels=["L4-L5"],
            side="left",
            baseline_pain=7,
            performed_by="Dr. Physician",
        ),
    )
    assert (refusal.type, refusal.message) == ("InvalidStep", "performed_at is in the future")
    assert (await pathway.view()).stage == Stage.BLOCK


async def test_a_screening_review_is_refused_when_the_screen_passed(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.wait_for("mri", lambda v: v.stage == Stage.MRI)
    review = ScreeningReview(proceed=True, reason="r", reviewed_by="Dr. Screener")
    refusal = await _refusal(pathway, PatientPathwayWorkflow.record_screening_review, review)
    assert refusal.type == "WrongStage"
    assert await _accepted_updates(pathway) == 0
    await pathway.withdraw()


async def test_approval_without_anesthesia_is_invalid(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.mri_review()
    await pathway.exam()
    await pathway.block()
    await pathway.diary([(timedelta(minutes=15), 0), (timedelta(hours=1), 0), (timedelta(hours=3), 8)])
    await pathway.wait_for("candidacy", lambda v: v.stage == Stage.CANDIDACY)
    refusal = await _refusal(
        pathway,
        PatientPathwayWorkflow.record_candidacy_decision,
        CandidacyDecision(approved=True, decided_by="Dr. Surgeon"),
    )
    assert refusal.type == "InvalidStep"
    assert (await pathway.view()).stage == Stage.CANDIDACY


async def _at_candidacy(pathway: PathwayDriver, diary: list[tuple[timedelta, int]]) -> None:
    await pathway.mri_review()
    await pathway.exam()
    await pathway.block()
    await pathway.diary(diary)
    await pathway.skip_past_diary_window()
    await pathway.wait_for("candidacy", lambda v: v.stage == Stage.CANDIDACY)


async def test_approval_needs_every_item_of_the_safety_checklist(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await _at_candidacy(pathway, POSITIVE)
    unsafe = SAFE.model_copy(update={"no_active_infection": False})
    for checklist in (None, unsafe):
        decision = CandidacyDecision(
            approved=True, anesthesia="twilight", decided_by="Dr. Surgeon", safety_checklist=checklist
        )
        refusal = await _refusal(pathway, PatientPathwayWorkflow.record_candidacy_decision, decision)
        assert refusal.type == "InvalidStep" and "safety_checklist" in refusal.message
    both = CandidacyDecision(
        approved=True, anesthesia="twilight", decided_by="Dr. S", safety_checklist=SAFE, repeat_block=True
    )
    refusal = await _refusal(pathway, PatientPathwayWorkflow.record_candidacy_decision, both)
    assert refusal.type == "InvalidStep"
    assert await _accepted_updates(pathway) == 3  # the MRI review, the exam and the block
    approved = await pathway.decide()
    assert approved.stage == Stage.DVR_SCHEDULED
    await pathway.withdraw()


async def test_approval_against_a_negative_block_needs_an_override_reason(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await _at_candidacy(pathway, NEGATIVE)
    decision = CandidacyDecision(
        approved=True, anesthesia="general", decided_by="Dr. Surgeon", safety_checklist=SAFE
    )
    refusal = await _refusal(pathway, PatientPathwayWorkflow.record_candidacy_decision, decision)
    assert refusal.type == "InvalidStep" and "override_reason" in refusal.message
    approved = await pathway.decide(override_reason="diary was filled in under sedation")
    assert approved.stage == Stage.DVR_SCHEDULED
    assert any(e.event == "candidacy_approved" and "against" in e.detail for e in approved.timeline)
    await pathway.withdraw()


async def test_steps_on_a_closed_pathway_are_refused_by_the_validator(
    start: Start, clinic: FakeClinic
) -> None:
    clinic.hold("pathway_closed")  # the closing letter is slow: the closed pathway is still running
    pathway = await start()
    await pathway.mri_review()
    await pathway.booked(AppointmentKind.EXAM)
    closed = await pathway.withdraw("moved away")
    assert closed.status == "closed"
    before = await _accepted_updates(pathway)

    again = await _refusal(pathway, PatientPathwayWorkflow.withdraw, Withdrawal(reason="again"))
    assert (again.type, again.message) == ("PathwayClosed", "the pathway is closed")
    exam = await _refusal(
        pathway,
        PatientPathwayWorkflow.record_exam,
        ExamResult(palpation_concordant=True, levels=["L4-L5"], examined_by="Dr. Late"),
    )
    assert exam.type == "PathwayClosed"
    assert await _accepted_updates(pathway) == before
    clinic.release("pathway_closed")
    assert (await pathway.result()).outcome == "withdrawn"


async def test_a_procedure_completed_before_its_approval_is_invalid(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.mri_review()
    await pathway.exam()
    await pathway.block()
    await pathway.diary([(timedelta(minutes=15), 0), (timedelta(hours=1), 0), (timedelta(hours=3), 8)])
    await pathway.decide()
    await pathway.booked(AppointmentKind.DVR)
    approved_at = await pathway.workflow_now()
    refusal = await _refusal(
        pathway,
        PatientPathwayWorkflow.record_procedure,
        ProcedureRecord(
            status="completed",
            completed_at=approved_at - timedelta(days=1),
            levels_treated=["L4-L5"],
            performed_by="Dr. Surgeon",
        ),
    )
    assert (refusal.type, refusal.message) == ("InvalidStep", "completed_at is before the DVR was approved")
    assert (await pathway.view()).stage == Stage.DVR_SCHEDULED


async def test_levels_reconcile_from_the_mri_to_the_procedure(start: Start, clinic: FakeClinic) -> None:
    """The MRI and exam found L4-L5: blocking L5-S1 needs an override reason, and so does treating a level
    no positive block confirmed."""
    pathway = await start()
    # Sent once the review is due: an Update in the pathway's first workflow task meets it still at intake.
    await pathway.wait_for(
        "mri review due", lambda v: v.next_action is not None and v.next_action.action == "mri_review"
    )
    no_levels = MriReview(facet_swelling=True, reviewed_by="Dr. Radiologist")
    refusal = await _refusal(pathway, PatientPathwayWorkflow.record_mri_review, no_levels)
    assert (refusal.type, refusal.message) == (
        "InvalidStep",
        "levels are required when facet swelling is found",
    )
    await pathway.mri_review()
    await pathway.exam()
    await pathway.booked(AppointmentKind.BLOCK)
    block = BlockRecord(
        anesthetic="lidocaine", levels=["L4-L5", "L5-S1"], side="left", baseline_pain=8, performed_by="Dr. P"
    )
    refusal = await _refusal(pathway, PatientPathwayWorkflow.record_block, block)
    assert (
        refusal.type == "InvalidStep" and "L5-S1" in refusal.message and "override_reason" in refusal.message
    )
    await pathway.step(
        PatientPathwayWorkflow.record_block,
        block.model_copy(update={"override_reason": "pain maps to L5-S1 on exam notes"}),
    )
    await pathway.diary(POSITIVE)
    await pathway.wait_for("candidacy", lambda v: v.stage == Stage.CANDIDACY)
    await pathway.decide()
    await pathway.booked(AppointmentKind.DVR)
    beyond = ProcedureRecord(status="completed", levels_treated=["L3-L4"], performed_by="Dr. Surgeon")
    refusal = await _refusal(pathway, PatientPathwayWorkflow.record_procedure, beyond)
    assert refusal.type == "InvalidStep" and "L3-L4" in refusal.message
    confirmed = ProcedureRecord(status="completed", levels_treated=["L5-S1"], performed_by="Dr. Surgeon")
    assert (await pathway.step(PatientPathwayWorkflow.record_procedure, confirmed)).stage == Stage.FOLLOW_UP
    await pathway.withdraw()
