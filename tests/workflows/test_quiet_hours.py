"""Quiet hours: routine patient messages wait for their end; urgent ones and clinics without them do not.

The test server's clock starts at the wall clock, so each test places the quiet hours around the moment it
needs (in the patient's time zone, America/Phoenix)."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.appointments import AppointmentKind
from domain.config import CLINICAL
from domain.policy import ClinicPolicy, pathway_config
from domain.quiet_hours import QuietHours
from tests.workflows.conftest import clinical_referral
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver

Start = Callable[..., Awaitable[PathwayDriver]]
PHOENIX = ZoneInfo("America/Phoenix")
NO_MRI = clinical_referral(mri_age_days=None)  # the pathway books an MRI at once: a routine message


@pytest.fixture
async def now(env: WorkflowEnvironment) -> datetime:
    """The test server's clock as the test starts."""
    return await env.get_current_time()


async def _sent(clinic: FakeClinic, key: str) -> datetime:
    for _ in range(200):
        if key in clinic.sent_at:
            return clinic.sent_at[key]
        await asyncio.sleep(0.025)
    raise AssertionError(f"{key} was never sent")


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
