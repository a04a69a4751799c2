"""Every way a pathway closes before DVR, each with its outcome and a letter to the patient."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

from domain.appointments import AppointmentKind, AppointmentStatus
from domain.stages import Actor, Outcome, PathwayStatus, ReliefResult, Stage
from tests.workflows.conftest import clinical_referral
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver

Start = Callable[..., Awaitable[PathwayDriver]]
NEGATIVE_DIARY = [
    (timedelta(minutes=15), 7),
    (timedelta(minutes=30), 6),
    (timedelta(hours=1), 7),
    (timedelta(hours=2), 8),
]


async def _closed(pathway: PathwayDriver, outcome: Outcome) -> None:
    final = await pathway.result()
    assert (final.stage, final.status, final.outcome) == (Stage.CLOSED, PathwayStatus.CLOSED, outcome)


async def test_screen_fail_waits_for_a_clinician_who_closes_not_candidate(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start(clinical_referral(pain_below_knee=True))
    waiting = await pathway.wait_for(
        "screening review due",
        lambda v: v.next_action is not None and v.next_action.action == "screening_review",
    )
    assert (waiting.stage, waiting.status) == (Stage.INTAKE, PathwayStatus.ACTIVE)
    assert waiting.next_action is not None and waiting.next_action.actor == Actor.CLINICIAN
    assert waiting.screening.typical_facet_pain is False
    assert waiting.screening.reason is not None and "below the knee" in waiting.screening.reason
    assert "not_candidate" not in clinic.templates()

    view = await pathway.screening_review(proceed=False, reason="radicular pain, refer to spine surgery")
    assert view.outcome == Outcome.NOT_CANDIDATE
    final = await pathway.result()
    assert final.criteria.typical_facet_pain is False
    assert final.outcome_reason is not None and "below the knee" in final.outcome_reason
    assert (final.screening.review_proceed, final.screening.reviewed_by) == (False, "Dr. Screener")
    assert any(e.event == "screening_reviewed" and "Dr. Screener" in e.detail for e in final.timeline)
    assert clinic.templates()["not_candidate"] == 1


async def test_screen_fail_a_clinician_lets_proceed_to_the_mri(start: Start, clinic: FakeClinic) -> None:
    pathway = await start(clinical_referral(pain_below_knee=True))
    view = await pathway.screening_review(proceed=True, reason="knee pain is from a known meniscal tear")
    assert (view.stage, view.status) == (Stage.MRI, PathwayStatus.ACTIVE)
    assert view.screening.review_proceed is True
    reviewed = await pathway.mri_review()
    assert reviewed.stage == Stage.EXAM
    await pathway.withdraw()


async def test_mri_without_swelling_closes_not_candidate(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    view = await pathway.mri_review(swelling=False)
    assert view.stage == Stage.CLOSED and view.outcome == Outcome.NOT_CANDIDATE
    await _closed(pathway, Outcome.NOT_CANDIDATE)


async def test_exam_not_concordant_closes_not_candidate(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.mri_review()
    view = await pathway.exam(concordant=False)
    assert view.criteria.exam_concordant is False
    await _closed(pathway, Outcome.NOT_CANDIDATE)


async def test_negative_block_goes_to_the_clinician_whose_decline_closes_not_candidate(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await pathway.mri_review()
    await pathway.exam()
    await pathway.block(baseline=8)
    await pathway.diary(NEGATIVE_DIARY)
    await pathway.skip_past_diary_window()  # the clinician is asked once the diary window has ended
    view = await pathway.wait_for("candidacy", lambda v: v.stage == Stage.CANDIDACY)
    assert view.status == PathwayStatus.ACTIVE
    assert view.relief_check.result == ReliefResult.NEGATIVE
    assert view.criteria.block_positive is False
    assert view.next_action is not None
    assert (view.next_action.actor, view.next_action.action) == (Actor.CLINICIAN, "candidacy_decision")
    assert any(e.event == "candidacy_due" and "negative" in e.detail for e in view.timeline)
    assert "not_candidate" not in clinic.templates()

    declined = await pathway.decide(approved=False)
    assert declined.outcome == Outcome.NOT_CANDIDATE
    await _closed(pathway, Outcome.NOT_CANDIDATE)
    final = await pathway.result()
    assert any(e.event == "candidacy_declined" and "Dr. Surgeon" in e.detail for e in final.timeline)
    await pathway.wait_for("letter", lambda _: clinic.templates().get("not_candidate") == 1)


async def test_clinician_declines(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.mri_review()
    await pathway.exam()
    await pathway.block()
    await pathway.diary([(timedelta(minutes=15), 0), (timedelta(hours=1), 0), (timedelta(hours=3), 8)])
    view = await pathway.decide(approved=False, reason="prefers conservative care")
    assert view.outcome == Outcome.DECLINED and view.outcome_reason == "prefers conservative care"
    await _closed(pathway, Outcome.DECLINED)
    await pathway.wait_for("letter", lambda _: clinic.templates().get("not_candidate") == 1)


async def test_withdrawal_closes_and_cancels_booked_appointments(start: Start, clinic: FakeClinic) -> None:
    pathway = await start()
    await pathway.mri_review()
    booked = await pathway.booked(AppointmentKind.EXAM)  # the patient withdraws before the exam
    view = await pathway.withdraw("moving out of state")
    assert view.stage == Stage.CLOSED and view.outcome == Outcome.WITHDRAWN
    await _closed(pathway, Outcome.WITHDRAWN)
    final = await pathway.result()
    assert [a.status for a in final.appointments] == [AppointmentStatus.CANCELLED]
    assert [(c.appointment_id, c.status) for c in clinic.status_changes] == [
        (booked.appointment_id, AppointmentStatus.CANCELLED)
    ]
    assert clinic.templates()["pathway_closed"] == 1
