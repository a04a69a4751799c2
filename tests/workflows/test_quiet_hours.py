"""Quiet hours: routine patient messages and check-ins wait for their end; urgent ones, diary prompts and
clinics without them do not.

The test server's clock starts at the wall clock, so each test places the quiet hours around the moment it
needs (in the patient's time zone, America/Phoenix)."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.appointments import AppointmentKind
from domain.check_ins import CheckInStatus
from domain.config import CLINICAL
from domain.policy import ClinicPolicy, pathway_config
from domain.quiet_hours import QuietHours
from domain.stages import Actor, AttentionReason, Stage
from tests.workflows.conftest import clinical_referral
from tests.workflows.eventually import eventually
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import POSITIVE_DIARY, PathwayDriver

Start = Callable[..., Awaitable[PathwayDriver]]
PHOENIX = ZoneInfo("America/Phoenix")
NO_MRI = clinical_referral(mri_age_days=None)  # the pathway books an MRI at once: a routine message
EVENINGS = CLINICAL.model_copy(update={"quiet_hours": QuietHours(start_hour=21, end_hour=8)})
FOLLOW_UP = CLINICAL.follow_up_check_in
OUTCOME = CLINICAL.outcome_check_in


@pytest.fixture
async def now(env: WorkflowEnvironment) -> datetime:
    """The test server's clock as the test starts."""
    return await env.get_current_time()


async def _sent(clinic: FakeClinic, key: str) -> datetime:
    if not await eventually(lambda: key in clinic.sent_at):
        raise AssertionError(f"{key} was never sent")
    return clinic.sent_at[key]


def _quiet_from_now(now: datetime, hours: int) -> tuple[QuietHours, datetime]:
    """Quiet hours from the current local hour for `hours` hours, and the moment they end."""
    local = now.astimezone(PHOENIX)
    quiet = QuietHours(start_hour=local.hour, end_hour=(local.hour + hours) % 24)
    end = datetime.combine(local.date(), time(local.hour), tzinfo=PHOENIX) + timedelta(hours=hours)
    return quiet, end


async def test_a_routine_message_in_quiet_hours_goes_when_they_end(
    start: Start, clinic: FakeClinic, now: datetime
) -> None:
    quiet, end = _quiet_from_now(now, 2)
    pathway = await start(NO_MRI, CLINICAL.model_copy(update={"quiet_hours": quiet}))
    mri = await pathway.booked(AppointmentKind.MRI)
    key = f"booked:{mri.appointment_id}"
    await asyncio.sleep(0.2)
    assert key not in clinic.sent_at  # held while the clock stands in quiet hours
    await pathway.skip_to(end + timedelta(minutes=1))
    assert end <= await _sent(clinic, key) < end + timedelta(minutes=1)


async def test_a_closing_letter_held_in_quiet_hours_keeps_the_pathway_open_until_sent(
    start: Start, clinic: FakeClinic, now: datetime
) -> None:
    quiet, end = _quiet_from_now(now, 3)
    pathway = await start(NO_MRI, CLINICAL.model_copy(update={"quiet_hours": quiet}))
    mri = await pathway.booked(AppointmentKind.MRI)
    await pathway.withdraw()
    await pathway.result()  # the server skips time while the result is awaited
    assert end <= clinic.sent_at["closed"] < end + timedelta(minutes=1)
    # The confirmation of the MRI the withdrawal cancelled was dropped, not sent after the letter.
    assert f"booked:{mri.appointment_id}" not in clinic.sent_at


async def test_urgent_advice_is_not_held(start: Start, clinic: FakeClinic) -> None:
    # Quiet all day but 10:00-10:59: the check-in goes at 10, the red flags come at 12, in quiet hours.
    quiet = QuietHours(start_hour=11, end_hour=10)
    pathway = await start(config=CLINICAL.model_copy(update={"quiet_hours": quiet}))
    await pathway.mri_review()
    await pathway.exam()
    await pathway.block()
    await pathway.diary([(timedelta(minutes=15), 1), (timedelta(hours=1), 1), (timedelta(hours=2), 7)])
    await pathway.decide(approved=True)
    await pathway.procedure("completed")
    due = (await pathway.view()).next_action
    assert due is not None and due.due_at is not None
    check_in = due.due_at - CLINICAL.follow_up_check_in.answer_window
    assert check_in.astimezone(PHOENIX).hour == 10
    answered_at = check_in + timedelta(hours=2)
    await pathway.skip_to(answered_at)
    await pathway.follow_up(pain=6, red_flags=["new_weakness"])
    advice = await _sent(clinic, "red-flag-advice")
    assert quiet.contain(advice.astimezone(PHOENIX).hour)
    assert advice - answered_at < timedelta(minutes=1)


async def test_a_clinic_without_quiet_hours_sends_at_once(
    start: Start, clinic: FakeClinic, now: datetime
) -> None:
    quiet, _ = _quiet_from_now(now, 2)
    config = pathway_config(ClinicPolicy(quiet_hours=None), "clinical")
    assert config.quiet_hours is None
    pathway = await start(NO_MRI, config)
    mri = await pathway.booked(AppointmentKind.MRI)
    sent = await _sent(clinic, f"booked:{mri.appointment_id}")
    assert quiet.contain(sent.astimezone(PHOENIX).hour)  # the hour a clinic with quiet hours would hold it
    assert sent - now < timedelta(minutes=1)


async def _dvr_done(pathway: PathwayDriver) -> datetime:
    """Walks the pathway to an approved DVR; returns the booked DVR's start (when it is done)."""
    await pathway.mri_review()
    await pathway.exam()
    await pathway.block()
    await pathway.diary(POSITIVE_DIARY)
    await pathway.decide(approved=True)
    return (await pathway.booked(AppointmentKind.DVR)).starts_at


def _local_at(day: datetime, days_after: int, hour: int, minute: int = 0) -> datetime:
    """`hour`:`minute` local time, `days_after` days after the local date of `day`."""
    date = day.astimezone(PHOENIX).date() + timedelta(days=days_after)
    return datetime.combine(date, time(hour, minute), tzinfo=PHOENIX)


async def _not_sent(clinic: FakeClinic, key: str) -> None:
    await asyncio.sleep(0.2)  # a send would have been made by now
    sent = clinic.sent_at.get(key)
    assert sent is None, f"{key} was sent at {sent.astimezone(PHOENIX):%a %H:%M} local"


async def test_a_check_in_due_in_quiet_hours_waits_for_the_morning_and_its_window_starts_then(
    start: Start, clinic: FakeClinic
) -> None:
    # The DVR is recorded at 22:30 the day after it was done: its check-in (10:00 that day) is overdue.
    pathway = await start(config=EVENINGS)
    done = await _dvr_done(pathway)
    recorded, morning = _local_at(done, 1, 22, 30), _local_at(done, 2, 8)
    await pathway.skip_to(recorded)
    await pathway.procedure("completed", completed_at=done)
    await pathway.wait_for("the follow-up stage", lambda v: v.stage == Stage.FOLLOW_UP)
    await _not_sent(clinic, "follow-up")
    held = await pathway.view()
    assert held.follow_up.status == CheckInStatus.SCHEDULED
    assert held.next_action is not None
    assert held.next_action.due_at == morning + FOLLOW_UP.answer_window  # the answer is due from the morning

    await pathway.skip_to(morning + timedelta(minutes=1))
    assert morning <= await _sent(clinic, "follow-up") < morning + timedelta(minutes=1)
    opened = await pathway.wait_for("the follow-up open", lambda v: v.follow_up.status == CheckInStatus.OPEN)
    assert opened.next_action is not None and opened.next_action.due_at is not None
    assert abs(opened.next_action.due_at - (morning + FOLLOW_UP.answer_window)) < timedelta(minutes=1)

    # Its chain runs from when it was sent: the reminder comes in the afternoon, not at 08:00 with it.
    await pathway.skip_to(morning + FOLLOW_UP.reminder_after - timedelta(minutes=1))
    await _not_sent(clinic, "follow-up-reminder")
    await pathway.skip_to(morning + FOLLOW_UP.reminder_after + timedelta(minutes=1))
    reminder_at = morning + FOLLOW_UP.reminder_after
    assert reminder_at <= await _sent(clinic, "follow-up-reminder") < reminder_at + timedelta(minutes=1)


async def test_an_outcome_check_in_due_in_quiet_hours_waits_for_the_morning_and_its_window_starts_then(
    start: Start, clinic: FakeClinic
) -> None:
    # The DVR is recorded at 22:30 fifteen days after it was done: the 2-week check-in's time has passed.
    pathway = await start(config=EVENINGS)
    done = await _dvr_done(pathway)
    recorded, morning = _local_at(done, 15, 22, 30), _local_at(done, 16, 8)
    await pathway.skip_to(recorded)
    await pathway.procedure("completed", completed_at=done)
    await pathway.wait_for("the follow-up stage", lambda v: v.stage == Stage.FOLLOW_UP)
    await pathway.follow_up(pain=2)  # staff transcribe it at once: its own check-in, held, is not sent
    await pathway.wait_for("the outcome check-ins", lambda v: v.stage == Stage.OUTCOMES and bool(v.outcomes))
    await _not_sent(clinic, "outcome:2_weeks")
    view = await pathway.view()
    held = view.outcomes[0]
    assert (held.check_in, held.status, held.due_at) == ("2_weeks", CheckInStatus.SCHEDULED, morning)
    assert view.next_action is not None
    assert view.next_action.due_at == morning + OUTCOME.answer_window  # the answer is due from the morning

    await pathway.skip_to(morning + timedelta(minutes=1))
    assert morning <= await _sent(clinic, "outcome:2_weeks") < morning + timedelta(minutes=1)
    await pathway.wait_for("2 weeks open", lambda v: v.outcomes[0].status == CheckInStatus.OPEN)
    assert "follow-up" not in clinic.sent_at

    # Staff are asked to call once its answer window has passed, counted from the morning.
    await pathway.skip_to(morning + OUTCOME.answer_window - timedelta(minutes=1))
    await asyncio.sleep(0.2)
    assert AttentionReason.CHECK_IN_UNANSWERED not in (await pathway.view()).attention_reasons
    await pathway.skip_to(morning + OUTCOME.answer_window + timedelta(minutes=1))
    call = await pathway.wait_for(
        "a staff call", lambda v: AttentionReason.CHECK_IN_UNANSWERED in v.attention_reasons
    )
    assert call.next_action is not None and call.next_action.due_at is not None
    assert (call.next_action.actor, call.next_action.action) == (Actor.STAFF, "call_patient")
    assert abs(call.next_action.due_at - (morning + OUTCOME.final_deadline)) < timedelta(minutes=1)


async def test_diary_prompts_are_not_held(start: Start, clinic: FakeClinic, now: datetime) -> None:
    quiet, _ = _quiet_from_now(now, 3)  # the block is performed in quiet hours, its diary runs in them
    pathway = await start(config=CLINICAL.model_copy(update={"quiet_hours": quiet}))
    performed_at = await pathway.to_relief_check()
    first = performed_at + CLINICAL.relief.prompt_offsets[0]
    await pathway.skip_to(first + timedelta(minutes=1))
    sent = await _sent(clinic, "diary:1:1")
    assert quiet.contain(sent.astimezone(PHOENIX).hour)
    assert first <= sent < first + timedelta(minutes=1)
