"""A typical facet-pain patient walks every stage to `completed` with outcome `dvr_completed`."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from domain.appointments import AppointmentKind
from domain.check_ins import CheckInStatus
from domain.config import CLINICAL
from domain.stages import Actor, Outcome, PathwayStatus, ReliefResult, Stage
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import POSITIVE_DIARY, PathwayDriver

Start = Callable[..., Awaitable[PathwayDriver]]


async def test_pathway_walks_every_stage_to_completed(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()

    after_review = await pathway.mri_review(swelling=True)
    assert after_review.stage == Stage.EXAM
    assert after_review.criteria.typical_facet_pain is True
    assert after_review.criteria.mri_facet_swelling is True

    after_exam = await pathway.exam(concordant=True)
    assert after_exam.stage == Stage.BLOCK

    after_block = await pathway.block(baseline=8)
    assert after_block.stage == Stage.RELIEF_CHECK
    assert after_block.next_action is not None
    assert (after_block.next_action.actor, after_block.next_action.action) == (Actor.PATIENT, "pain_report")

    # The relief check keeps its prompts; the view shows them, and the open prompt's answer as due.
    performed_at = after_block.relief_check.performed_at
    assert performed_at is not None and after_block.relief_check.prompts_sent == []
    await pathway.skip_to(performed_at + timedelta(minutes=15))
    prompted = await pathway.wait_for("prompt 1", lambda v: bool(v.relief_check.prompts_sent))
    assert [p.number for p in prompted.relief_check.prompts_sent] == [1]
    assert prompted.next_action is not None
    assert prompted.next_action.due_at == performed_at + timedelta(minutes=30)

    await pathway.diary(POSITIVE_DIARY)
    at_candidacy = await pathway.wait_for("candidacy", lambda v: v.stage == Stage.CANDIDACY)
    assert at_candidacy.relief_check.result == ReliefResult.POSITIVE
    assert at_candidacy.relief_check.peak_relief_pct == 88
    # The run: from the +15 min report to the +1 h one; no return check was needed.
    assert at_candidacy.relief_check.onset_minutes == 15
    assert at_candidacy.relief_check.relief_duration_minutes == 45
    assert at_candidacy.relief_check.returned_at is None
    assert at_candidacy.relief_check.return_check_pain is None
    assert at_candidacy.criteria.block_positive is True
    assert [p.number for p in at_candidacy.relief_check.prompts_sent] == [1, 2, 3, 4]
    assert at_candidacy.next_action is not None and at_candidacy.next_action.actor == Actor.CLINICIAN

    after_decision = await pathway.decide(approved=True)
    assert after_decision.stage == Stage.DVR_SCHEDULED
    assert after_decision.anesthesia == "twilight"

    after_procedure = await pathway.procedure("completed")
    assert after_procedure.stage == Stage.FOLLOW_UP

    answer = after_procedure.next_action
    assert answer is not None and answer.due_at is not None
    assert (answer.actor, answer.action) == (Actor.PATIENT, "follow_up")
    check_in_at = answer.due_at - CLINICAL.follow_up_check_in.answer_window
    assert check_in_at.astimezone(ZoneInfo("America/Phoenix")).hour == 10  # the next day at 10:00 local
    await pathway.skip_to(check_in_at + timedelta(minutes=1))
    await pathway.wait_for(
        "follow-up check-in sent",
        lambda v: clinic.templates()["follow_up_checkin"] == 1,
    )
    after_follow_up = await pathway.follow_up(pain=1)
    assert after_follow_up.stage == Stage.OUTCOMES and after_follow_up.status == PathwayStatus.ACTIVE
    assert after_follow_up.follow_up.status == CheckInStatus.ANSWERED

    # The outcome check-ins: each on its day after the procedure, at 10:00 local, answers transcribed.
    procedure_day = next(e.at for e in after_follow_up.timeline if e.event == "procedure_completed")
    names = ["2_weeks", "6_weeks", "3_months", "6_months", "12_months"]
    assert [o.check_in for o in after_follow_up.outcomes] == names
    for outcome, days in zip(after_follow_up.outcomes, [14, 42, 91, 182, 365], strict=True):
        local = outcome.due_at.astimezone(ZoneInfo("America/Phoenix"))
        assert (local.date() - procedure_day.astimezone(ZoneInfo("America/Phoenix")).date()).days == days
        assert local.hour == 10
    answers = [
        (3, "working_modified", 3),
        (2, "working_full", 2),
        (2, "working_full", 2),
        (1, "working_full", 1),
    ]
    answers.append((1, "retired", 1))
    for name, (pain, work, pgic) in zip(names, answers, strict=True):
        opened = await pathway.until_outcome_open(name)
        assert opened.stage == Stage.OUTCOMES and opened.next_action is not None
        assert (opened.next_action.actor, opened.next_action.action) == (Actor.PATIENT, "outcome_check_in")
        await pathway.outcome_check_in(name, pain=pain, work_status=work, pgic=pgic)

    final = await pathway.result()
    assert (final.stage, final.status, final.outcome) == (
        Stage.COMPLETED,
        PathwayStatus.COMPLETED,
        Outcome.DVR_COMPLETED,
    )
    assert final.follow_up.pain == 1 and final.follow_up.returned_to_work is True
    assert final.needs_attention is False
    assert [(o.status, o.pain, o.work_status, o.pgic) for o in final.outcomes] == [
        (CheckInStatus.ANSWERED, *answer) for answer in answers
    ]
    assert all(o.recorded_by == "Nurse Kim" for o in final.outcomes)
    assert [a.kind for a in final.appointments] == [
        AppointmentKind.EXAM,
        AppointmentKind.BLOCK,
        AppointmentKind.DVR,
    ]
    sent = clinic.templates()
    assert sent["appointment_booked"] == 3
    assert sent["block_preparation"] == 1 and sent["preop_instructions"] == 1
    assert sent["diary_prompt"] >= 3 and sent["follow_up_checkin"] == 1 and sent["outcome_check_in"] == 5
    assert sent["check_in_reminder"] == 0, "an answered check-in is not reminded"
    assert len({m.key for m in clinic.messages}) == len(clinic.messages), "a message key was sent twice"
    # Who took each clinical step is kept in the timeline.
    by = {e.event: e.detail for e in final.timeline}
    assert by["mri_reviewed"].endswith("by Dr. Radiologist")
    assert by["exam_recorded"].endswith("by Dr. Physician")
    assert by["block_performed"].endswith("by Dr. Physician")
    assert by["candidacy_approved"].endswith("by Dr. Surgeon")
    assert by["procedure_completed"].endswith("by Dr. Surgeon")


async def test_old_mri_books_a_new_one_first(start: Start, clinic: FakeClinic) -> None:
    from tests.workflows.conftest import clinical_referral

    pathway = await start(clinical_referral(mri_age_days=500))
    mri = await pathway.booked(AppointmentKind.MRI)
    view = await pathway.view()
    assert view.stage == Stage.MRI and view.appointments == [mri]
    assert any(m.template == "appointment_booked" and m.params["kind"] == "mri" for m in clinic.messages)
