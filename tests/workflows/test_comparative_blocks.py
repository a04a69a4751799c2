"""Comparative blocks (clinic policy): a positive or prolonged lidocaine block is followed, on another day, by
a bupivacaine block with its own diary; the clinician decides with the pair's concordance shown."""

from collections.abc import Awaitable, Callable
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.appointments import Appointment, AppointmentKind
from domain.config import CLINICAL
from domain.stages import Outcome, ReliefResult, Stage
from domain.view import PathwayView
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver

Start = Callable[..., Awaitable[PathwayDriver]]
COMPARATIVE = CLINICAL.model_copy(update={"comparative_blocks": True})
PHOENIX = ZoneInfo("America/Phoenix")

# Positive: a run from +15 min to +1 h (45 min), then the usual pain back at +2 h (relief lasted 105 min).
SHORT_RELIEF = [(timedelta(minutes=15), 1), (timedelta(hours=1), 1), (timedelta(hours=2), 7)]
# Positive: a run from +15 min to +3 h (165 min), then the usual pain back at +4 h (relief lasted 225 min).
LONG_RELIEF = [
    (timedelta(minutes=15), 1),
    (timedelta(hours=1), 1),
    (timedelta(hours=3), 1),
    (timedelta(hours=4), 7),
]
# Prolonged: at the threshold through the +8 h prompt (relief lasted 465 min at least).
PROLONGED = [(timedelta(minutes=15), 1), (timedelta(hours=1), 1), (timedelta(hours=8), 1)]
# Prolonged (the reviewer's bupivacaine): a run from +15 min to +1 h only (45 min), then pain 3 (62 % relief)
# through +8 h: relief lasted 465 min at least.
SHORT_RUN_THEN_PROLONGED = [
    (timedelta(minutes=15), 1),
    (timedelta(hours=1), 1),
    (timedelta(hours=2), 3),
    (timedelta(hours=5), 3),
    (timedelta(hours=8), 3),
]
NO_RELIEF = [(timedelta(minutes=15), 7), (timedelta(minutes=30), 7), (timedelta(hours=1), 7)]


def _blocks(view: PathwayView) -> list[Appointment]:
    return [a for a in view.appointments if a.kind == AppointmentKind.BLOCK]


async def _refused_block(pathway: PathwayDriver, count: int, **extra: Any) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await pathway.block(count=count, **extra)
    assert isinstance(failed.value.cause, ApplicationError)
    return failed.value.cause


async def _examined(pathway: PathwayDriver) -> None:
    await pathway.mri_review()
    await pathway.exam()


async def _first_block(pathway: PathwayDriver, diary: list[tuple[timedelta, int]]) -> PathwayView:
    """Block 1 (lidocaine) and its diary, until the pathway has moved on from its relief check."""
    await pathway.block()
    await pathway.diary(diary)
    if diary is not SHORT_RELIEF and diary is not LONG_RELIEF:  # evaluated at the end of the window
        await pathway.skip_past_diary_window()
    return await pathway.wait_for("block 1 evaluated", lambda v: v.stage != Stage.RELIEF_CHECK)


async def _second_block(pathway: PathwayDriver, diary: list[tuple[timedelta, int]]) -> PathwayView:
    """Block 2 (bupivacaine) and its diary, until candidacy."""
    await pathway.block(count=2, anesthetic="bupivacaine")
    await pathway.diary(diary)
    if diary is not SHORT_RELIEF and diary is not LONG_RELIEF:
        await pathway.skip_past_diary_window()
    return await pathway.wait_for("candidacy", lambda v: v.stage == Stage.CANDIDACY)


async def test_a_positive_first_block_books_a_second_on_another_day_and_longer_relief_is_concordant(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start(config=COMPARATIVE)
    # The first block of the pair is lidocaine: another anesthetic needs an override reason.
    await _examined(pathway)
    refused = await _refused_block(pathway, 1, anesthetic="bupivacaine")
    assert refused.type == "InvalidStep" and "lidocaine" in refused.message
    first = await _first_block(pathway, SHORT_RELIEF)

    # No decision between the two: the second block is booked straight away, on a later local day.
    assert first.stage == Stage.BLOCK
    second_booking = await pathway.booked(AppointmentKind.BLOCK, 2)
    view = await pathway.view()
    first_booking = _blocks(view)[0]
    block_1 = view.blocks[0]
    assert block_1.performed_at is not None
    first_day = max(first_booking.starts_at, block_1.performed_at).astimezone(PHOENIX).date()
    assert second_booking.starts_at.astimezone(PHOENIX).date() > first_day
    asked = [r for r in clinic.booking_calls if r.kind == AppointmentKind.BLOCK][-1]
    assert asked.not_before.astimezone(PHOENIX).time() == time(0)  # from the next local midnight
    assert [b.result for b in view.blocks] == [ReliefResult.POSITIVE]
    assert view.relief_check == block_1 and view.concordance is None
    assert any(e.event == "comparative_second_block" for e in view.timeline)
    assert not any(e.event == "candidacy_due" for e in view.timeline)
    assert clinic.templates()["block_preparation"] == 2

    # The second is bupivacaine, and keeps a diary of its own, shown in `blocks` while it runs.
    refused = await _refused_block(pathway, 2, anesthetic="lidocaine")
    assert refused.type == "InvalidStep" and "bupivacaine" in refused.message
    await pathway.block(count=2, anesthetic="bupivacaine")
    await pathway.diary(LONG_RELIEF[:2])
    running = await pathway.view()
    assert running.stage == Stage.RELIEF_CHECK
    assert [b.block_number for b in running.blocks] == [1, 2]
    assert running.blocks[1] == running.relief_check
    assert running.blocks[1].anesthetic == "bupivacaine" and len(running.blocks[1].reports) == 2
    assert running.blocks[0] == block_1
    await pathway.diary(LONG_RELIEF[2:])

    at_candidacy = await pathway.wait_for("candidacy", lambda v: v.stage == Stage.CANDIDACY)
    assert at_candidacy.concordance == "concordant"
    assert [b.relief_duration_minutes for b in at_candidacy.blocks] == [45, 165]
    assert [b.relief_lasted_minutes for b in at_candidacy.blocks] == [105, 225]
    assert at_candidacy.relief_check == at_candidacy.blocks[1]
    assert at_candidacy.criteria.block_positive is True
    assert (await pathway.relief_check(2).describe()).id.endswith("-relief-2")
    due = [e for e in at_candidacy.timeline if e.event == "candidacy_due"]
    assert len(due) == 1 and "block 2 positive; comparative blocks concordant" in due[0].detail
    [told] = [m for m in clinic.messages if m.template == "clinician_decision_due"]
    assert "comparative blocks concordant" in told.params["action"]

    approved = await pathway.decide()
    assert approved.stage == Stage.DVR_SCHEDULED
    await pathway.withdraw()
    await pathway.result()


async def test_a_prolonged_first_block_then_shorter_relief_is_discordant(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start(config=COMPARATIVE)
    await _examined(pathway)
    first = await _first_block(pathway, PROLONGED)
    assert first.blocks[0].result == ReliefResult.PROLONGED
    at_candidacy = await _second_block(pathway, SHORT_RELIEF)
    assert [b.result for b in at_candidacy.blocks] == [ReliefResult.PROLONGED, ReliefResult.POSITIVE]
    assert at_candidacy.concordance == "discordant"
    # Never an automatic gate: the clinician may still approve (the latest block was positive).
    approved = await pathway.decide()
    assert approved.stage == Stage.DVR_SCHEDULED
    await pathway.withdraw()
    await pathway.result()


async def test_a_prolonged_second_block_after_a_positive_first_is_concordant_though_its_run_was_shorter(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start(config=COMPARATIVE)
    await _examined(pathway)
    await _first_block(pathway, LONG_RELIEF)
    at_candidacy = await _second_block(pathway, SHORT_RUN_THEN_PROLONGED)
    assert [b.result for b in at_candidacy.blocks] == [ReliefResult.POSITIVE, ReliefResult.PROLONGED]
    assert [b.relief_duration_minutes for b in at_candidacy.blocks] == [165, 45]
    assert [b.relief_lasted_minutes for b in at_candidacy.blocks] == [225, 465]
    assert at_candidacy.concordance == "concordant"
    await pathway.withdraw()
    await pathway.result()


async def test_a_second_block_without_relief_is_not_positive_and_the_clinician_decides(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start(config=COMPARATIVE)
    await _examined(pathway)
    await _first_block(pathway, SHORT_RELIEF)
    at_candidacy = await _second_block(pathway, NO_RELIEF)
    assert at_candidacy.concordance == "second_block_not_positive"
    assert at_candidacy.criteria.block_positive is False
    assert len(at_candidacy.blocks) == 2
    await pathway.decide(approved=False)
    final = await pathway.result()
    assert (final.stage, final.outcome) == (Stage.CLOSED, Outcome.NOT_CANDIDATE)
    assert final.concordance == "second_block_not_positive"


async def test_a_first_block_without_relief_goes_to_candidacy_and_a_repeat_is_a_single_block(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start(config=COMPARATIVE)
    await _examined(pathway)
    first = await _first_block(pathway, NO_RELIEF)
    assert first.stage == Stage.CANDIDACY
    assert first.concordance is None and [b.result for b in first.blocks] == [ReliefResult.NEGATIVE]
    assert len(_blocks(first)) == 1
    assert not any(e.event == "comparative_second_block" for e in first.timeline)

    # A repeat the clinician books is a single block, with any anesthetic, and no pair.
    await pathway.decide(approved=False, repeat_block=True)
    repeat = await pathway.block(count=2, anesthetic="lidocaine")
    assert repeat.stage == Stage.RELIEF_CHECK and repeat.relief_check.block_number == 2
    await pathway.diary(SHORT_RELIEF)
    again = await pathway.wait_for("candidacy again", lambda v: v.stage == Stage.CANDIDACY)
    assert [b.result for b in again.blocks] == [ReliefResult.NEGATIVE, ReliefResult.POSITIVE]
    assert again.concordance is None
    await pathway.withdraw()
    await pathway.result()


async def test_a_block_with_the_other_anesthetic_is_taken_with_an_override_reason(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start(config=COMPARATIVE)
    await _examined(pathway)
    view = await pathway.block(anesthetic="bupivacaine", override_reason="lidocaine allergy")
    assert view.stage == Stage.RELIEF_CHECK
    assert view.blocks[0].anesthetic == "bupivacaine"
    await pathway.withdraw()
    await pathway.result()
