"""A pain report sent again never changes the diary: the same instant and score is the same report."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.answers import ReportAccepted
from domain.config import CLINICAL
from domain.relief import diary_window_end
from domain.results import PainReport
from domain.stages import Stage
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver
from workflows.relief_check import ReliefCheckWorkflow

Start = Callable[..., Awaitable[PathwayDriver]]


async def test_a_report_sent_again_is_stored_once_and_answered_as_the_first_time(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    performed_at = await pathway.to_relief_check()
    await pathway.skip_to(performed_at + timedelta(minutes=31))
    diary = pathway.relief_check()
    relief_at_15_min = PainReport(pain=1, recorded_at=performed_at + timedelta(minutes=15))

    first = await diary.execute_update(ReliefCheckWorkflow.record_pain_report, relief_at_15_min)
    again = await diary.execute_update(ReliefCheckWorkflow.record_pain_report, relief_at_15_min)
    assert first == again == ReportAccepted(reports=1)

    await pathway.pain_report(PainReport(pain=7, recorded_at=performed_at + timedelta(minutes=30)))
    await pathway.skip_to(diary_window_end(performed_at, CLINICAL.relief) + timedelta(minutes=1))
    view = await pathway.wait_for("the diary judged", lambda v: v.relief_check.result is not None)
    # [1, 7] is too few reports to judge: the "1" sent again is the same report, not a second one.
    assert [r.pain for r in view.relief_check.reports] == [1, 7]
    assert view.relief_check.result == "indeterminate"
    assert view.stage == Stage.CANDIDACY  # the clinician decides on a repeat block


async def test_another_score_at_the_same_instant_is_refused_as_a_conflict(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    performed_at = await pathway.to_relief_check()
    await pathway.skip_to(performed_at + timedelta(minutes=16))
    at_15_min = performed_at + timedelta(minutes=15)
    await pathway.pain_report(PainReport(pain=1, recorded_at=at_15_min))

    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await pathway.relief_check().execute_update(
            ReliefCheckWorkflow.record_pain_report, PainReport(pain=6, recorded_at=at_15_min)
        )
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.message) == (
        "ConflictingReport",
        "another pain score is already recorded at that time",
    )
    assert [(r.at, r.pain) for r in (await pathway.view()).relief_check.reports] == [(at_15_min, 1)]
