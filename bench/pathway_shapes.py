"""The pathways the pathway-cost benchmark walks (bench/pathway_cost.py), each on a workflow-test driver
against the time-skipping server: a typical one, and the longest (tests/workflows/test_history_shape.py).
"""

from datetime import date, timedelta

from domain.referral import ClinicalReferral, History, MriOnFile, Symptoms
from domain.view import PathwayView
from tests.workflows.pathway_driver import PathwayDriver

OUTCOMES = ["2_weeks", "6_weeks", "3_months", "6_months", "12_months"]
PROLONGED = [(timedelta(minutes=15), 1), (timedelta(hours=1), 1), (timedelta(hours=8), 1)]


async def typical(pathway: PathwayDriver) -> None:
    """Referral, MRI review, exam, a block with positive relief, candidacy approved, the DVR, the follow-up,
    then each outcome check-in answered."""
    await pathway.to_follow_up()
    await pathway.follow_up(pain=1)
    for name in OUTCOMES:
        await pathway.until_outcome_open(name)
        await pathway.outcome_check_in(name)
    await pathway.result()


async def longest(pathway: PathwayDriver) -> tuple[PathwayView, PathwayView]:
    """The longest pathway there is (tests/workflows/test_history_shape.py bounds its executions):
    comparative blocks, both diaries run to their end, the follow-up and every outcome check-in unanswered,
    each called about without reaching the patient. Returns the view when the follow-up was late, and the
    final one."""
    await pathway.mri_review()
    await pathway.exam()
    await pathway.block()
    await pathway.diary(PROLONGED)
    await pathway.skip_past_diary_window()
    await pathway.block(count=2, anesthetic="bupivacaine")
    await pathway.diary(PROLONGED)
    await pathway.skip_past_diary_window()
    await pathway.decide(approved=True, override_reason="prolonged relief on both blocks")
    await pathway.procedure("completed", override_reason="prolonged relief at L4-L5 on both blocks")
    late = await _unanswered(pathway, await pathway.view())
    await pathway.staff_call(reached=False)
    assert late.next_action is not None and late.next_action.due_at is not None
    await pathway.skip_to(late.next_action.due_at + timedelta(minutes=1))
    for name in OUTCOMES:
        await _unanswered(pathway, await pathway.until_outcome_open(name))
        await pathway.staff_call(reached=False)
    return late, await pathway.result()


async def _unanswered(pathway: PathwayDriver, open_view: PathwayView) -> PathwayView:
    assert open_view.next_action is not None and open_view.next_action.due_at is not None
    await pathway.skip_to(open_view.next_action.due_at + timedelta(minutes=1))
    return await pathway.wait_for("a call due", lambda v: v.needs_attention)


def referral() -> ClinicalReferral:
    """A typical facet-pain referral with a recent MRI on file (as the workflow tests' default)."""
    return ClinicalReferral(
        symptoms=Symptoms(axial_low_back_pain=True, buttock_radiation=True, pain_below_knee=False),
        history=History(prior_rfa_with_recurrence=True),
        mri=MriOnFile(performed_on=date.today() - timedelta(days=30)),
    )
