"""Validators refuse wrong-stage and invalid steps before they reach history."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.appointments import AppointmentKind
from domain.results import BlockRecord, CandidacyDecision, ExamResult, PainReport
from domain.stages import Stage
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver
from workflows.pathway import PatientPathwayWorkflow

Start = Callable[..., Awaitable[PathwayDriver]]


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


async def test_pain_report_outside_relief_check_is_refused(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.wait_for("mri", lambda v: v.stage == Stage.MRI)
    refusal = await _refusal(pathway, PatientPathwayWorkflow.record_pain_report, PainReport(pain=3))
    assert refusal.type == "WrongStage"


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


async def test_approval_without_anesthesia_is_invalid(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.mri_review()
    await pathway.exam()
    await pathway.block()
    await pathway.diary([(timedelta(minutes=15), 0), (timedelta(minutes=30), 0), (timedelta(hours=3), 8)])
    await pathway.wait_for("candidacy", lambda v: v.stage == Stage.CANDIDACY)
    refusal = await _refusal(
        pathway,
        PatientPathwayWorkflow.record_candidacy_decision,
        CandidacyDecision(approved=True, decided_by="Dr. Surgeon"),
    )
    assert refusal.type == "InvalidStep"
    assert (await pathway.view()).stage == Stage.CANDIDACY


async def test_steps_on_a_closed_pathway_are_refused(start: Start, clinic: FakeClinic) -> None:
    from tests.workflows.conftest import clinical_referral

    pathway = await start(clinical_referral(axial_low_back_pain=False))
    await pathway.result()
    with pytest.raises(RPCError) as refused:
        await pathway.withdraw()
    assert refused.value.status == RPCStatusCode.NOT_FOUND
