"""Withdrawal during the diary, red flags at the follow-up, block time bounds."""

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from domain.appointments import AppointmentKind
from domain.config import CLINICAL
from domain.notifications import Recipient
from domain.results import BlockRecord, RedFlagReport
from domain.stages import AttentionReason, Outcome, PathwayStatus, Stage
from tests.workflows.eventually import eventually
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver
from workflows.pathway import PatientPathwayWorkflow

Start = Callable[..., Awaitable[PathwayDriver]]


async def test_withdrawal_during_the_relief_check_stops_the_diary(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.mri_review()
    await pathway.exam()
    recorded = await pathway.block()
    performed_at = recorded.relief_check.performed_at
    assert performed_at is not None
    await pathway.diary([(timedelta(minutes=16), 2)])
    closed = await pathway.withdraw("patient asked to stop")
    assert (closed.stage, closed.outcome) == (Stage.CLOSED, Outcome.WITHDRAWN)
    final = await pathway.result()
    assert final.relief_check.result is None
    child = await pathway.relief_check().describe()
    assert child.status is not None and child.status.name == "CANCELED"
    prompts = clinic.templates()["diary_prompt"]
    await pathway.skip_to(performed_at + timedelta(hours=10))
    assert clinic.templates()["diary_prompt"] == prompts, "prompts went on after the withdrawal"
    assert clinic.templates()["pathway_closed"] == 1


async def _needs_attention_written(pathway: PathwayDriver) -> bool | None:
    """The last `NeedsAttention` written (the time-skipping server's describe cannot decode it)."""
    written = None
    for event in (await pathway.handle.fetch_history()).events:
        if event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            if "NeedsAttention" in fields:
                written = json.loads(fields["NeedsAttention"].data)
    return written


async def test_red_flags_are_urgent_and_wait_for_staff_to_resolve(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.to_follow_up()
    with pytest.raises(WorkflowUpdateFailedError) as nothing_open:  # no attention is open yet
        await pathway.resolve_attention()
    assert isinstance(nothing_open.value.cause, ApplicationError)
    assert nothing_open.value.cause.type == "WrongStage"

    await pathway.follow_up(pain=6, red_flags=["bladder_or_bowel_change", "fever"])
    flagged = await pathway.wait_for("red flags raised", lambda v: v.needs_attention)
    assert flagged.attention_reasons == [AttentionReason.RED_FLAGS]
    # The outcome check-ins begin meanwhile; the red flags stay raised until staff resolve them.
    assert (flagged.stage, flagged.status) == (Stage.OUTCOMES, PathwayStatus.ACTIVE)
    assert await _needs_attention_written(pathway) is True

    async def sent(template: str) -> bool:
        return await eventually(lambda: clinic.templates()[template] > 0)

    assert await sent("red_flag_advice") and await sent("urgent_red_flags")
    urgent = next(m for m in clinic.messages if m.template == "urgent_red_flags")
    assert urgent.recipient == Recipient.STAFF_URGENT
    assert urgent.params == {"pathway_id": pathway.handle.id, "red_flags": "bladder_or_bowel_change, fever"}
    assert clinic.templates()["staff_attention"] == 0  # the urgent message, not the generic one

    await pathway.skip_to(await pathway.workflow_now() + timedelta(days=3))
    waiting = await pathway.view()
    assert (waiting.status, waiting.attention_reasons) == (PathwayStatus.ACTIVE, [AttentionReason.RED_FLAGS])

    await pathway.resolve_attention()
    final = await pathway.result()
    assert (final.stage, final.outcome) == (Stage.COMPLETED, Outcome.DVR_COMPLETED)
    assert final.needs_attention is False and final.attention_reasons == []
    assert final.follow_up.red_flags == ["bladder_or_bowel_change", "fever"]
    assert any(e.event == "attention_resolved" for e in final.timeline)
    assert await _needs_attention_written(pathway) is False
    assert all("called the patient" not in e.detail for e in final.timeline)  # the note stays in history
    with pytest.raises(RPCError):  # the pathway has completed: nothing to resolve
        await pathway.resolve_attention()


async def test_red_flags_reported_outside_a_question_are_urgent_too(start: Start, clinic: FakeClinic) -> None:
    """The follow-up was recorded by staff; the patient's form, sent after, carried red flags: reported on
    their own, they raise attention, tell the patient what to do and staff at once, and hold completion."""
    pathway = await start()
    await pathway.to_follow_up()
    await pathway.follow_up(pain=2)
    report = RedFlagReport(red_flags=["new_weakness"])
    await pathway.step(PatientPathwayWorkflow.report_red_flags, report)
    flagged = await pathway.wait_for("red flags raised", lambda v: v.needs_attention)
    assert flagged.attention_reasons == [AttentionReason.RED_FLAGS]
    assert flagged.follow_up.red_flags == []  # the recorded answer stands
    assert any(e.event == "red_flags_reported" and "new_weakness" in e.detail for e in flagged.timeline)
    assert await eventually(lambda: clinic.templates()["urgent_red_flags"] == 1)
    assert await eventually(lambda: clinic.templates()["red_flag_advice"] == 1)
    urgent = next(m for m in clinic.messages if m.template == "urgent_red_flags")
    assert urgent.params == {"pathway_id": pathway.handle.id, "red_flags": "new_weakness"}

    await pathway.skip_to(await pathway.workflow_now() + timedelta(days=400))  # every check-in ran out
    assert (await pathway.view()).status == PathwayStatus.ACTIVE  # waits for staff
    await pathway.resolve_attention()
    final = await pathway.result()
    assert (final.stage, final.outcome, final.needs_attention) == (
        Stage.COMPLETED,
        Outcome.DVR_COMPLETED,
        False,
    )
    with pytest.raises(RPCError):  # ended: nothing takes a report (the page tells the patient to call)
        await pathway.step(PatientPathwayWorkflow.report_red_flags, report)


async def test_a_block_recorded_too_long_ago_is_refused(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.mri_review()
    await pathway.exam()
    await pathway.booked(AppointmentKind.BLOCK)
    long_ago = await pathway.workflow_now() - CLINICAL.relief.return_check_offset - timedelta(minutes=1)
    block = BlockRecord(
        performed_at=long_ago,
        anesthetic="lidocaine",
        levels=["L4-L5"],
        side="left",
        baseline_pain=7,
        performed_by="Dr. Physician",
    )
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await pathway.step(PatientPathwayWorkflow.record_block, block)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.message) == (
        "InvalidStep",
        "performed_at is too long ago to start a pain diary",
    )
    assert (await pathway.view()).stage == Stage.BLOCK
