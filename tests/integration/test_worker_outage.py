"""After an outage (the worker down while timers came due) a pathway does not send every missed message at
once: missed diary prompts collapse into the current one, stale nudges and reminders are dropped, and the
timeline says so.

These run on the dev server, in real time: the time-skipping server stops its clock at the first timer
that fires while no worker runs, so it cannot stand for an outage. The waits are a few seconds long."""

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.appointments import AppointmentKind
from domain.config import DEMO, PathwayConfig
from domain.inputs import PathwayInput
from domain.referral import ClinicalReferral, History, MriOnFile, Symptoms
from domain.view import PathwayView
from tests.workflows.clinic_worker import ClinicWorker
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver

SECOND = timedelta(seconds=1)
# Prompts one second apart, a nudge 0.3 s after each; a message more than a second late has missed its moment.
FAST_DIARY = DEMO.relief.model_copy(
    update={
        "prompt_offsets": (1 * SECOND, 2 * SECOND, 3 * SECOND, 4 * SECOND, 60 * SECOND),
        "nudge_after": 0.3 * SECOND,
        "missed_after": SECOND,
        "silence_alert_after": 100 * SECOND,
        "return_check_offset": 90 * SECOND,
    }
)


@pytest.fixture
async def clinic_worker(temporal: Client) -> AsyncIterator[ClinicWorker]:
    running = ClinicWorker(WorkflowEnvironment.from_client(temporal), FakeClinic())
    await running.start()
    yield running
    await running.stop()


async def _start(worker: ClinicWorker, config: PathwayConfig) -> PathwayDriver:
    pathway = PathwayInput(
        patient_ref=str(uuid.uuid4()),
        clinic_site="outage-test",
        clinic_timezone="America/Phoenix",
        patient_timezone="America/Phoenix",
        referral=ClinicalReferral(
            symptoms=Symptoms(axial_low_back_pain=True, buttock_radiation=True),
            history=History(prior_rfa_with_recurrence=True),
            mri=MriOnFile(performed_on=date.today() - timedelta(days=30)),
        ),
        config=config,
        webhook_events=True,
    )
    return await PathwayDriver.start(worker.env, worker.clinic, pathway)


def _prompts(view: PathwayView) -> list[int]:
    """The diary prompts the relief check sent, by number."""
    return [p.number for p in view.relief_check.prompts_sent]


def _details(view: PathwayView, event: str) -> list[str]:
    return [e.detail for e in view.timeline if e.event == event]


async def test_missed_prompts_collapse_into_the_current_one_and_stale_nudges_are_dropped(
    clinic_worker: ClinicWorker,
) -> None:
    clinic = clinic_worker.clinic
    pathway = await _start(clinic_worker, DEMO.model_copy(update={"relief": FAST_DIARY}))
    try:
        performed_at = await pathway.to_relief_check()
        await pathway.wait_for("prompt 1 sent", lambda v: _prompts(v) == [1])

        # Down until +6 s: prompts 2 to 4 and nudges 1 to 4 come due with no worker.
        await clinic_worker.outage(until=performed_at + 6 * SECOND)
        view = await pathway.wait_for(
            "the current prompt sent, and the pathway told of the missed ones",
            lambda v: 4 in _prompts(v) and bool(_details(v, "diary_messages_missed")),
        )

        diary_keys = sorted(k for k in clinic.sent_keys() if k.startswith("diary"))
        assert diary_keys == ["diary:1:1", "diary:1:4"]
        assert clinic.templates()["diary_nudge"] == 0
        assert _details(view, "diary_messages_missed") == [
            "2 diary prompts and 4 nudges missed during an outage; sent prompt 4"
        ]
    finally:
        await pathway.handle.terminate("test over")


async def test_an_outage_past_the_end_of_the_diary_sends_no_prompt_that_could_not_be_answered(
    clinic_worker: ClinicWorker,
) -> None:
    clinic = clinic_worker.clinic
    # Prompts at +1 s and +2 s, the return check at +3 s, the diary closing at +4 s.
    short_diary = FAST_DIARY.model_copy(
        update={
            "prompt_offsets": (1 * SECOND, 2 * SECOND),
            "return_check_offset": 3 * SECOND,
            "final_answer_window": SECOND,
        }
    )
    pathway = await _start(clinic_worker, DEMO.model_copy(update={"relief": short_diary}))
    try:
        performed_at = await pathway.to_relief_check()
        await pathway.wait_for("prompt 1 sent", lambda v: _prompts(v) == [1])

        # Down until +6 s: prompt 2, the return check, both nudges and the end of the diary come due.
        await clinic_worker.outage(until=performed_at + 6 * SECOND)
        view = await pathway.wait_for(
            "the diary evaluated and the timeline told",
            lambda v: v.relief_check.result is not None and bool(_details(v, "diary_messages_missed")),
        )

        assert sorted(k for k in clinic.sent_keys() if k.startswith("diary")) == ["diary:1:1"]
        assert clinic.templates()["return_check"] == 0
        assert _prompts(view) == [1]
        assert _details(view, "diary_messages_missed") == [
            "2 diary prompts and 2 nudges missed during an outage; the diary had closed"
        ]
    finally:
        await pathway.handle.terminate("test over")


async def test_a_reminder_whose_moment_passed_during_an_outage_is_dropped(
    clinic_worker: ClinicWorker,
) -> None:
    clinic = clinic_worker.clinic
    # The fake calendar books a day ahead: the shortly-before reminder comes 3 s after the booking, and the
    # day-before one (at midnight, local, today) has passed already.
    config = DEMO.model_copy(
        update={
            "reminder_before": timedelta(days=1) - 3 * SECOND,
            "reminder_local_hour": 0,
            "reminder_missed_after": SECOND,
        }
    )
    pathway = await _start(clinic_worker, config)
    try:
        await pathway.mri_review()
        exam = await pathway.booked(AppointmentKind.EXAM)
        await pathway.wait_for(
            "booking confirmed", lambda _: f"booked:{exam.appointment_id}" in clinic.sent_keys()
        )

        shortly_before = exam.starts_at - config.reminder_before
        await clinic_worker.outage(until=shortly_before + 2 * SECOND)
        view = await pathway.wait_for("reminder missed", lambda v: bool(_details(v, "reminder_missed")))

        assert _details(view, "reminder_missed") == ["exam reminder (shortly_before) missed during an outage"]
        assert f"reminder:{exam.appointment_id}:shortly_before" not in clinic.sent_keys()
    finally:
        await pathway.handle.terminate("test over")


async def test_a_reminder_due_after_its_appointment_started_is_dropped(clinic_worker: ClinicWorker) -> None:
    clinic = clinic_worker.clinic
    clinic.booking_lead = 6 * SECOND
    # The exam starts 6 s after its booking, the shortly-before reminder 3 s before that; a reminder stays
    # on time for 5 s, longer than it comes before the appointment. The day-before one (midnight, the day
    # before) has passed already.
    config = DEMO.model_copy(
        update={"reminder_before": 3 * SECOND, "reminder_local_hour": 0, "reminder_missed_after": 5 * SECOND}
    )
    pathway = await _start(clinic_worker, config)
    try:
        await pathway.mri_review()
        exam = await pathway.booked(AppointmentKind.EXAM)
        await pathway.wait_for(
            "booking confirmed", lambda _: f"booked:{exam.appointment_id}" in clinic.sent_keys()
        )

        # Down until a second after the exam started: the reminder is 4 s late, within its 5 s.
        await clinic_worker.outage(until=exam.starts_at + SECOND)
        view = await pathway.wait_for("reminder missed", lambda v: bool(_details(v, "reminder_missed")))

        assert _details(view, "reminder_missed") == ["exam reminder (shortly_before) missed during an outage"]
        assert f"reminder:{exam.appointment_id}:shortly_before" not in clinic.sent_keys()
    finally:
        await pathway.handle.terminate("test over")
