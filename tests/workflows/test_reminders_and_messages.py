"""Reminders are sent, move with a rebooking and stop with their stage; nudges; delivery trouble."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

from domain.appointments import AppointmentKind, AppointmentStatus
from domain.config import CLINICAL
from domain.notifications import BouncedMessage
from domain.results import BlockRecord, PainReport
from domain.stages import AttentionReason, Outcome, ReliefResult, Stage
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver
from workflows.pathway import PatientPathwayWorkflow

Start = Callable[..., Awaitable[PathwayDriver]]
SHORTLY_BEFORE = CLINICAL.reminder_before
POSITIVE_DIARY = [(timedelta(minutes=15), 1), (timedelta(hours=1), 1), (timedelta(hours=2), 7)]


def _reminder(appointment_id: str) -> str:
    return f"reminder:{appointment_id}:shortly_before"


async def test_a_reminder_is_sent_shortly_before_the_appointment(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.mri_review()
    exam = await pathway.booked(AppointmentKind.EXAM)
    await pathway.skip_to(exam.starts_at - SHORTLY_BEFORE - timedelta(minutes=1))
    assert _reminder(exam.appointment_id) not in clinic.sent_keys()
    await pathway.skip_to(exam.starts_at - SHORTLY_BEFORE + timedelta(minutes=1))
    await pathway.wait_for("reminder sent", lambda _: _reminder(exam.appointment_id) in clinic.sent_keys())
    reminder = next(m for m in clinic.messages if m.key.endswith(_reminder(exam.appointment_id)))
    assert reminder.template == "appointment_reminder" and reminder.params["kind"] == "exam"


async def test_a_reminder_stops_once_the_step_is_recorded(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.mri_review()
    exam = await pathway.booked(AppointmentKind.EXAM)
    await pathway.exam()  # recorded before the reminder's moment
    block = await pathway.booked(AppointmentKind.BLOCK)
    await pathway.skip_to(exam.starts_at + timedelta(hours=1))
    await pathway.skip_to(block.starts_at - SHORTLY_BEFORE + timedelta(minutes=1))
    await pathway.wait_for("block reminder", lambda _: _reminder(block.appointment_id) in clinic.sent_keys())
    assert _reminder(exam.appointment_id) not in clinic.sent_keys()


async def test_a_cancelled_appointment_moves_its_reminder_to_the_new_one(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await pathway.mri_review()
    first = await pathway.booked(AppointmentKind.EXAM)
    await pathway.appointment_status(first, AppointmentStatus.CANCELLED)
    second = await pathway.booked(AppointmentKind.EXAM, 2)
    assert second.starts_at > first.starts_at
    await pathway.skip_to(second.starts_at - SHORTLY_BEFORE + timedelta(minutes=1))
    await pathway.wait_for("new reminder", lambda _: _reminder(second.appointment_id) in clinic.sent_keys())
    assert _reminder(first.appointment_id) not in clinic.sent_keys()


async def test_a_missed_prompt_is_nudged_once_and_an_answered_one_is_not(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    performed_at = await pathway.to_relief_check()
    relief = CLINICAL.relief
    first, second = relief.prompt_offsets[0], relief.prompt_offsets[1]
    await pathway.skip_to(performed_at + first + relief.nudge_after + timedelta(minutes=1))
    await pathway.wait_for("nudge for prompt 1", lambda _: "diary-nudge:1:1" in clinic.sent_keys())
    await pathway.diary([(second + timedelta(minutes=1), 2)])  # prompt 2 answered
    await pathway.skip_to(performed_at + second + relief.nudge_after + timedelta(minutes=2))
    await pathway.wait_for("prompt 3 not yet", lambda v: v.stage == Stage.RELIEF_CHECK)
    assert "diary-nudge:1:2" not in clinic.sent_keys()
    assert clinic.templates()["diary_nudge"] == 1


async def test_a_block_recorded_late_sends_one_prompt_for_the_missed_ones(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await pathway.mri_review()
    await pathway.exam()
    await pathway.booked(AppointmentKind.BLOCK)
    performed_at = await pathway.workflow_now() - timedelta(hours=3, minutes=5)  # recorded afterwards
    await pathway.step(
        PatientPathwayWorkflow.record_block,
        BlockRecord(
            performed_at=performed_at,
            anesthetic="lidocaine",
            levels=["L4-L5"],
            side="left",
            baseline_pain=8,
            performed_by="Dr. Physician",
        ),
    )
    now = await pathway.workflow_now()
    missed = sum(performed_at + o <= now for o in CLINICAL.relief.prompt_offsets)
    assert missed == 5  # +15 min to +3 h
    await pathway.wait_for("one prompt", lambda _: clinic.templates()["diary_prompt"] == 1)
    assert [k for k in clinic.sent_keys() if k.startswith("diary:")] == [f"diary:1:{missed}"]
    view = await pathway.wait_for(
        "the timeline told", lambda v: any(e.event == "diary_messages_missed" for e in v.timeline)
    )
    assert [e.detail for e in view.timeline if e.event == "diary_messages_missed"] == [
        "4 diary prompts, 4 nudges and the no-answer check missed before the block was recorded;"
        " sent prompt 5"
    ]
    for after, pain in POSITIVE_DIARY:  # read back from the patient's paper diary
        await pathway.pain_report(PainReport(pain=pain, recorded_at=performed_at + after))
    view = await pathway.wait_for("candidacy", lambda v: v.stage == Stage.CANDIDACY)
    assert view.relief_check.result == ReliefResult.POSITIVE
    assert clinic.templates()["diary_prompt"] == 1 and clinic.templates()["diary_nudge"] == 0


async def test_a_prompt_sent_late_goes_out_without_its_own_nudge(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.mri_review()
    await pathway.exam()
    await pathway.booked(AppointmentKind.BLOCK)
    # Recorded 27 min after the block: prompt 1 (+15 min) missed its moment, its nudge (+25 min) did not.
    performed_at = await pathway.workflow_now() - timedelta(minutes=27)
    await pathway.step(
        PatientPathwayWorkflow.record_block,
        BlockRecord(
            performed_at=performed_at,
            anesthetic="lidocaine",
            levels=["L4-L5"],
            side="left",
            baseline_pain=8,
            performed_by="Dr. Physician",
        ),
    )
    await pathway.wait_for("prompt 1 sent late", lambda _: "diary:1:1" in clinic.sent_keys())
    relief = CLINICAL.relief
    second = relief.prompt_offsets[1]
    await pathway.skip_to(performed_at + second + relief.nudge_after + timedelta(minutes=1))
    view = await pathway.wait_for("nudge for prompt 2", lambda _: "diary-nudge:1:2" in clinic.sent_keys())
    diary_keys = {k for k in clinic.sent_keys() if k.startswith("diary")}
    assert diary_keys == {"diary:1:1", "diary:1:2", "diary-nudge:1:2"}  # no nudge for prompt 1, ever
    assert [e.detail for e in view.timeline if e.event == "diary_messages_missed"] == [
        "1 nudge missed before the block was recorded; sent prompt 1"
    ]


async def test_a_message_that_cannot_be_sent_asks_staff(start: Start, clinic: FakeClinic) -> None:
    clinic.failing.add("appointment_booked")
    pathway = await start()
    await pathway.mri_review()
    exam = await pathway.booked(AppointmentKind.EXAM)
    view = await pathway.wait_for(
        "message not delivered", lambda v: AttentionReason.MESSAGE_NOT_DELIVERED in v.attention_reasons
    )
    assert view.needs_attention and view.stage == Stage.EXAM
    assert [u.key.split(":", 1)[1] for u in clinic.undelivered] == [f"booked:{exam.appointment_id}"]


async def test_a_patient_with_no_usable_channel_is_flagged_unreachable(
    start: Start, clinic: FakeClinic
) -> None:
    clinic.unreachable = True
    pathway = await start()
    await pathway.mri_review()
    view = await pathway.wait_for(
        "unreachable", lambda v: AttentionReason.PATIENT_UNREACHABLE in v.attention_reasons
    )
    assert view.needs_attention
    # Staff are told by a message sent in the background, which may go out after the view shows the reason.
    await pathway.wait_for("staff told", lambda _: clinic.templates()["staff_attention"] >= 1)
    assert clinic.templates()["staff_attention"] == 1  # told once, however many messages follow


async def test_a_bounced_message_goes_again_once_and_with_no_channel_left_the_patient_is_unreachable(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await pathway.mri_review()
    exam = await pathway.booked(AppointmentKind.EXAM)
    # The booking's message goes out after the booking shows in the view.
    await pathway.wait_for(
        "booking message sent", lambda _: f"booked:{exam.appointment_id}" in clinic.sent_keys()
    )
    booked = next(m for m in clinic.messages if m.key.endswith(f"booked:{exam.appointment_id}"))
    # The API's signal once the gateway reported the number cannot take SMS (it refused the number first).
    bounce = BouncedMessage(key=booked.key, template=booked.template, params=booked.params)
    await pathway.handle.signal(PatientPathwayWorkflow.message_bounced, bounce)
    resent = f"booked:{exam.appointment_id}:resent"
    await pathway.wait_for("sent again", lambda _: resent in clinic.sent_keys())
    again = next(m for m in clinic.messages if m.key.endswith(resent))
    assert (again.template, again.params) == (booked.template, booked.params)

    # Reported twice: sent again once. The exam's Update is taken after the signal, and the block's booking
    # message is sent after both.
    await pathway.handle.signal(PatientPathwayWorkflow.message_bounced, bounce)
    await pathway.exam()
    block = await pathway.booked(AppointmentKind.BLOCK)
    await pathway.wait_for("block booked", lambda _: f"booked:{block.appointment_id}" in clinic.sent_keys())
    assert [m.key for m in clinic.messages].count(again.key) == 1
    assert not (await pathway.view()).needs_attention  # the patient was reached on their other channel

    # A bounce when no channel is left: the activity suppresses the message; staff are asked at once.
    clinic.unreachable = True
    bounce = BouncedMessage(key=again.key, template=again.template, params=again.params)
    await pathway.handle.signal(PatientPathwayWorkflow.message_bounced, bounce)
    view = await pathway.wait_for(
        "unreachable", lambda v: AttentionReason.PATIENT_UNREACHABLE in v.attention_reasons
    )
    assert view.attention_reasons == [AttentionReason.PATIENT_UNREACHABLE]


async def test_a_message_the_patient_declined_asks_nothing_of_staff(start: Start, clinic: FakeClinic) -> None:
    # The patient declined appointment messages: their receipts say DECLINED, which is their choice, not a
    # patient who cannot be reached.
    clinic.declined.update({"appointment_booked", "appointment_reminder"})
    pathway = await start()
    await pathway.mri_review()
    exam = await pathway.booked(AppointmentKind.EXAM)
    await pathway.skip_to(exam.starts_at - SHORTLY_BEFORE + timedelta(minutes=1))
    reminder = _reminder(exam.appointment_id)
    await pathway.wait_for("reminder declined", lambda _: reminder in clinic.sent_keys())
    view = await pathway.view()
    assert f"booked:{exam.appointment_id}" in clinic.sent_keys()
    assert not view.needs_attention and view.attention_reasons == []
    assert clinic.templates()["staff_attention"] == 0 and clinic.undelivered == []


async def test_a_closing_letter_that_fails_is_recorded_and_reported_without_holding_the_pathway(
    start: Start, clinic: FakeClinic
) -> None:
    clinic.failing.add("pathway_closed")
    pathway = await start()
    await pathway.mri_review()
    await pathway.booked(AppointmentKind.EXAM)
    await pathway.withdraw("moved away")
    final = await pathway.result()
    assert final.outcome == Outcome.WITHDRAWN
    assert [u.key.split(":", 1)[1] for u in clinic.undelivered] == ["closed"]
    assert clinic.templates()["message_not_delivered"] == 1
