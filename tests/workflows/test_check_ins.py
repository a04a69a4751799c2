"""Check-ins after the procedure: the next-day follow-up and the outcome check-ins to 12 months, answered,
unanswered (reminder, staff call, not obtained), with red flags, and stopped by a withdrawal."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.check_ins import CheckInStatus
from domain.config import CLINICAL
from domain.notifications import Recipient
from domain.quiet_hours import QuietHours
from domain.results import CheckInAnswers
from domain.stages import Actor, AttentionReason, Outcome, PathwayStatus, Stage
from domain.view import PathwayView
from tests.workflows.eventually import eventually
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver

Start = Callable[..., Awaitable[PathwayDriver]]
POSITIVE_DIARY = [(timedelta(minutes=15), 1), (timedelta(hours=1), 1), (timedelta(hours=2), 7)]
FOLLOW_UP = CLINICAL.follow_up_check_in
OUTCOME = CLINICAL.outcome_check_in
NAMES = ["2_weeks", "6_weeks", "3_months", "6_months", "12_months"]


async def _to_follow_up(pathway: PathwayDriver) -> PathwayView:
    await pathway.mri_review()
    await pathway.exam()
    await pathway.block()
    await pathway.diary(POSITIVE_DIARY)
    await pathway.decide(approved=True)
    return await pathway.procedure("completed")


async def _to_outcomes(pathway: PathwayDriver) -> PathwayView:
    await _to_follow_up(pathway)
    return await pathway.follow_up(pain=2)


async def _sent(clinic: FakeClinic, template: str, count: int = 1) -> bool:
    """Messages go out in the background: waits for the `count`th of a template."""
    return await eventually(lambda: clinic.templates()[template] >= count)


def _refusal(failed: pytest.ExceptionInfo[WorkflowUpdateFailedError]) -> tuple[str | None, str]:
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.type, cause.message


async def test_an_unanswered_follow_up_is_reminded_then_called_then_not_obtained(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    due = (await _to_follow_up(pathway)).next_action
    assert due is not None and due.due_at is not None
    opened_at = due.due_at - FOLLOW_UP.answer_window

    await pathway.skip_to(opened_at + FOLLOW_UP.reminder_after + timedelta(minutes=1))
    assert await _sent(clinic, "check_in_reminder")
    reminded = await pathway.view()
    assert reminded.follow_up.status == CheckInStatus.OPEN and not reminded.needs_attention

    await pathway.skip_to(opened_at + FOLLOW_UP.answer_window + timedelta(minutes=1))
    late = await pathway.wait_for(
        "a staff call", lambda v: AttentionReason.FOLLOW_UP_OVERDUE in v.attention_reasons
    )
    assert late.next_action is not None
    assert (late.next_action.actor, late.next_action.action) == (Actor.STAFF, "call_patient")
    assert late.next_action.due_at is not None
    assert abs(late.next_action.due_at - (opened_at + FOLLOW_UP.final_deadline)) < timedelta(seconds=1)

    not_reached = await pathway.staff_call(reached=False)
    assert not_reached.stage == Stage.FOLLOW_UP  # staff may call again until the final deadline
    assert [(c.reached, c.called_by) for c in not_reached.follow_up.staff_calls] == [(False, "Nurse Kim")]

    await pathway.skip_to(opened_at + FOLLOW_UP.final_deadline + timedelta(minutes=1))
    moved_on = await pathway.wait_for("follow-up given up", lambda v: v.stage == Stage.OUTCOMES)
    assert moved_on.follow_up.status == CheckInStatus.NOT_OBTAINED and moved_on.follow_up.pain is None
    assert AttentionReason.FOLLOW_UP_OVERDUE not in moved_on.attention_reasons
    assert clinic.templates()["check_in_reminder"] == 1
    assert any(e.event == "follow_up_not_obtained" for e in moved_on.timeline)


async def test_a_staff_call_that_reaches_the_patient_records_the_follow_up(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    due = (await _to_follow_up(pathway)).next_action
    assert due is not None and due.due_at is not None
    await pathway.skip_to(due.due_at + timedelta(minutes=1))
    await pathway.wait_for("a staff call", lambda v: v.needs_attention)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await pathway.staff_call(reached=False, answers=CheckInAnswers(pain=3))
    assert _refusal(refused) == ("InvalidStep", "answers are recorded only when the patient was reached")

    called = await pathway.staff_call(reached=True, answers=CheckInAnswers(pain=3, returned_to_work=False))
    assert called.stage == Stage.OUTCOMES and not called.needs_attention
    follow_up = called.follow_up
    assert (follow_up.status, follow_up.pain, follow_up.returned_to_work) == (
        CheckInStatus.ANSWERED,
        3,
        False,
    )
    assert [c.reached for c in follow_up.staff_calls] == [True]


async def test_an_unanswered_outcome_check_in_becomes_a_call_then_not_obtained(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await _to_outcomes(pathway)
    opened = await pathway.until_outcome_open("2_weeks")
    assert opened.next_action is not None and opened.next_action.due_at is not None
    opened_at = opened.next_action.due_at - OUTCOME.answer_window
    assert await _sent(clinic, "outcome_check_in")
    sent = next(m for m in clinic.messages if m.template == "outcome_check_in")
    assert sent.params == {"interval": "2 weeks"}

    with pytest.raises(WorkflowUpdateFailedError) as wrong:
        await pathway.outcome_check_in("6_weeks")
    assert _refusal(wrong) == ("WrongStage", "the open check-in is 2_weeks, not 6_weeks")

    await pathway.skip_to(opened_at + OUTCOME.reminder_after + timedelta(minutes=1))
    assert await _sent(clinic, "check_in_reminder")
    await pathway.skip_to(opened_at + OUTCOME.answer_window + timedelta(minutes=1))
    late = await pathway.wait_for(
        "a staff call", lambda v: AttentionReason.CHECK_IN_UNANSWERED in v.attention_reasons
    )
    assert late.next_action is not None
    assert (late.next_action.actor, late.next_action.action) == (Actor.STAFF, "call_patient")
    called = await pathway.staff_call(reached=False)
    assert [c.reached for c in called.outcomes[0].staff_calls] == [False]

    await pathway.skip_to(opened_at + OUTCOME.final_deadline + timedelta(minutes=1))
    given_up = await pathway.wait_for(
        "2 weeks not obtained", lambda v: v.outcomes[0].status == CheckInStatus.NOT_OBTAINED
    )
    given_up = await pathway.wait_for("the pathway told", lambda v: not v.needs_attention)
    assert given_up.next_action is not None
    assert (given_up.next_action.actor, given_up.next_action.action) == (Actor.PATIENT, "outcome_check_in")
    assert given_up.next_action.due_at == given_up.outcomes[1].due_at + OUTCOME.answer_window
    told = [m for m in clinic.messages if m.template == "staff_attention"]
    assert [m.params["reason"] for m in told] == ["2 weeks check-in unanswered: call the patient"]

    with pytest.raises(WorkflowUpdateFailedError) as closed:
        await pathway.outcome_check_in("2_weeks")
    assert _refusal(closed) == ("WrongStage", "no check-in is open: the 6_weeks check-in is next")

    await pathway.until_outcome_open("6_weeks")
    answers = CheckInAnswers(pain=1, work_status="working_full", pgic=2)
    reached = await pathway.staff_call(reached=True, answers=answers)
    six_weeks = reached.outcomes[1]
    assert (six_weeks.status, six_weeks.pain, six_weeks.pgic) == (CheckInStatus.ANSWERED, 1, 2)
    assert six_weeks.recorded_by == "Nurse Kim"


async def test_red_flags_at_an_outcome_check_in_are_urgent_and_hold_completion(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await _to_outcomes(pathway)
    for name in NAMES[:2]:
        await pathway.until_outcome_open(name)
        await pathway.outcome_check_in(name)
    await pathway.until_outcome_open("3_months")
    await pathway.outcome_check_in("3_months", pain=7, pgic=6, red_flags=["new_weakness"])
    flagged = await pathway.wait_for("red flags raised", lambda v: v.needs_attention)
    assert flagged.attention_reasons == [AttentionReason.RED_FLAGS]
    assert flagged.outcomes[2].red_flags == ["new_weakness"]
    assert await _sent(clinic, "red_flag_advice") and await _sent(clinic, "urgent_red_flags")
    urgent = next(m for m in clinic.messages if m.template == "urgent_red_flags")
    assert urgent.recipient == Recipient.STAFF_URGENT
    assert urgent.params == {"pathway_id": pathway.handle.id, "red_flags": "new_weakness"}
    advice = next(m for m in clinic.messages if m.template == "red_flag_advice")
    assert advice.key.endswith(":red-flag-advice:3_months")

    for name in NAMES[3:]:  # the check-ins go on meanwhile
        await pathway.until_outcome_open(name)
        await pathway.outcome_check_in(name)
    held = await pathway.wait_for(
        "waiting for staff",
        lambda v: v.next_action is not None and v.next_action.action == "resolve_attention",
    )
    assert (held.stage, held.status) == (Stage.OUTCOMES, PathwayStatus.ACTIVE)
    assert all(o.status == CheckInStatus.ANSWERED for o in held.outcomes)

    await pathway.resolve_attention()
    final = await pathway.result()
    assert (final.stage, final.outcome) == (Stage.COMPLETED, Outcome.DVR_COMPLETED)
    assert not final.needs_attention


async def test_withdrawal_during_outcomes_stops_them_and_the_pathway_completes(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await _to_outcomes(pathway)
    await pathway.until_outcome_open("2_weeks")
    await pathway.outcome_check_in("2_weeks", pain=2)
    await pathway.until_outcome_open("6_weeks")

    stopped = await pathway.withdraw("moving abroad")
    assert (stopped.stage, stopped.status, stopped.outcome) == (
        Stage.COMPLETED,
        PathwayStatus.COMPLETED,
        Outcome.DVR_COMPLETED,
    )
    assert [o.status for o in stopped.outcomes] == [CheckInStatus.ANSWERED] + [CheckInStatus.STOPPED] * 4
    assert stopped.follow_up.status == CheckInStatus.ANSWERED
    assert stopped.outcome_reason == (
        "DVR performed; the patient withdrew from the check-ins (2 of 6 check-ins answered)"
    )
    await pathway.result()
    child = await pathway.outcome_check_ins().describe()
    assert child.status is not None and child.status.name == "COMPLETED"
    assert clinic.templates()["outcome_check_in"] == 2
    assert clinic.templates()["pathway_closed"] == 0  # the pathway completed: no closing letter


async def test_withdrawal_at_the_follow_up_stops_it_and_the_pathway_completes(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await _to_follow_up(pathway)
    stopped = await pathway.withdraw("does not want more messages")
    assert (stopped.status, stopped.outcome) == (PathwayStatus.COMPLETED, Outcome.DVR_COMPLETED)
    assert stopped.follow_up.status == CheckInStatus.STOPPED
    assert [o.status for o in stopped.outcomes] == [CheckInStatus.STOPPED] * 5
    assert clinic.templates()["follow_up_checkin"] == 0


async def test_a_withdrawal_while_red_flags_wait_for_staff_still_waits_for_them(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await _to_follow_up(pathway)
    await pathway.follow_up(pain=6, red_flags=["fever"])
    await pathway.wait_for("red flags raised", lambda v: v.needs_attention)
    for name in NAMES:  # the check-ins go on meanwhile, and end
        await pathway.until_outcome_open(name)
        await pathway.outcome_check_in(name)
    await pathway.wait_for(
        "waiting for staff",
        lambda v: v.next_action is not None and v.next_action.action == "resolve_attention",
    )
    withdrawn = await pathway.withdraw("moving abroad")
    assert (withdrawn.status, withdrawn.attention_reasons) == (
        PathwayStatus.ACTIVE,
        [AttentionReason.RED_FLAGS],
    )
    await pathway.resolve_attention()
    final = await pathway.result()
    assert (final.stage, final.outcome) == (Stage.COMPLETED, Outcome.DVR_COMPLETED)
    assert clinic.templates()["pathway_closed"] == 0


async def test_staff_call_answers_fit_the_check_in_they_answer(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await _to_follow_up(pathway)
    with pytest.raises(WorkflowUpdateFailedError) as at_follow_up:
        await pathway.staff_call(reached=True, answers=CheckInAnswers(pain=2, pgic=3))
    assert _refusal(at_follow_up)[0] == "InvalidStep"
    await pathway.follow_up(pain=2)
    await pathway.until_outcome_open("2_weeks")
    with pytest.raises(WorkflowUpdateFailedError) as without_pgic:
        await pathway.staff_call(reached=True, answers=CheckInAnswers(pain=2, work_status="off_work"))
    assert _refusal(without_pgic) == (
        "InvalidStep",
        "an outcome check-in's answers need work_status and pgic",
    )
    assert (await pathway.view()).outcomes[0].status == CheckInStatus.OPEN


async def test_a_reminder_held_in_quiet_hours_is_not_sent_once_the_check_in_is_stopped(
    start: Start, clinic: FakeClinic
) -> None:
    # Quiet hours 13-20 local: the follow-up's reminder (10:00 + 4 h) is held; the patient withdraws at 15:00.
    quiet = CLINICAL.model_copy(update={"quiet_hours": QuietHours(start_hour=13, end_hour=20)})
    pathway = await start(config=quiet)
    due = (await _to_follow_up(pathway)).next_action
    assert due is not None and due.due_at is not None
    opened_at = due.due_at - FOLLOW_UP.answer_window
    await pathway.skip_to(opened_at + timedelta(hours=5))
    withdrawn = await pathway.withdraw("does not want more messages")
    assert withdrawn.status == PathwayStatus.COMPLETED and withdrawn.follow_up.status == CheckInStatus.STOPPED
    assert [o.status for o in withdrawn.outcomes] == [CheckInStatus.STOPPED] * 5
    await pathway.result()
    assert clinic.templates()["check_in_reminder"] == 0


async def test_an_urgent_page_that_cannot_be_sent_goes_to_the_staff_mailbox(
    start: Start, clinic: FakeClinic
) -> None:
    clinic.failing.add(Recipient.STAFF_URGENT.value)
    pathway = await start()
    await _to_follow_up(pathway)
    await pathway.follow_up(pain=6, red_flags=["new_weakness"])
    assert await eventually(lambda: any(m.template == "urgent_red_flags" for m in clinic.messages))
    mailed = [m for m in clinic.messages if m.template == "urgent_red_flags"]
    assert [m.recipient for m in mailed] == [Recipient.STAFF]
    assert mailed[0].params["red_flags"] == "new_weakness"
