"""Criterion 4: judging a medial branch block from the patient's pain diary (DESIGN.md §2)."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from domain.config import ReliefPolicy
from domain.stages import ReliefResult


class DiaryEntry(BaseModel):
    """One pain report, placed by its time after the block."""

    model_config = ConfigDict(frozen=True)

    after_block: timedelta
    pain: int = Field(ge=0, le=10)


class ReliefEvaluation(BaseModel):
    model_config = ConfigDict(frozen=True)

    result: ReliefResult
    peak_relief_pct: int | None
    reason: str


def relief_fraction(baseline: int, pain: int) -> float:
    """(baseline - pain) / baseline; negative when the pain is worse than before the block."""
    return (baseline - pain) / baseline


def evaluate_relief(baseline: int, entries: Sequence[DiaryEntry], policy: ReliefPolicy) -> ReliefEvaluation:
    """Positive: relief at the threshold at two reports in a row within the positive window, then the usual
    pain returns (relief under `returned_below`). Prolonged: the threshold was reached and the pain has not
    returned. Negative: the threshold was never reached. Indeterminate: too few reports or a baseline too low
    to show relief. Reports are taken in time order; reports at the same moment keep the order given.
    """
    ordered = sorted(entries, key=lambda e: e.after_block)
    peak = (
        max(0, round(100 * max(relief_fraction(baseline, e.pain) for e in ordered)))
        if ordered and baseline > 0
        else None
    )
    if baseline < policy.min_baseline:
        return ReliefEvaluation(
            result=ReliefResult.INDETERMINATE,
            peak_relief_pct=peak,
            reason=f"baseline pain {baseline} is under {policy.min_baseline}",
        )
    if len(ordered) < policy.min_reports:
        return ReliefEvaluation(
            result=ReliefResult.INDETERMINATE,
            peak_relief_pct=peak,
            reason=f"{len(ordered)} reports, fewer than {policy.min_reports}",
        )
    reached_at = _threshold_reached_at(baseline, ordered, policy)
    if reached_at is None:
        return ReliefEvaluation(
            result=ReliefResult.NEGATIVE,
            peak_relief_pct=peak,
            reason=f"relief never reached {round(policy.threshold * 100)}% at "
            f"{policy.consecutive_at_threshold} reports in a row",
        )
    returned = any(
        relief_fraction(baseline, e.pain) < policy.returned_below for e in ordered[reached_at + 1 :]
    )
    if returned:
        return ReliefEvaluation(
            result=ReliefResult.POSITIVE,
            peak_relief_pct=peak,
            reason="relief at threshold, then pain returned",
        )
    return ReliefEvaluation(
        result=ReliefResult.PROLONGED, peak_relief_pct=peak, reason="relief at threshold has not worn off"
    )


def _threshold_reached_at(baseline: int, ordered: Sequence[DiaryEntry], policy: ReliefPolicy) -> int | None:
    """Index of the report completing the first run of reports at the threshold within the window."""
    run = 0
    for index, entry in enumerate(ordered):
        if entry.after_block > policy.positive_window:
            break
        if relief_fraction(baseline, entry.pain) >= policy.threshold:
            run += 1
            if run >= policy.consecutive_at_threshold:
                return index
        else:
            run = 0
    return None


def diary_schedule(performed_at: datetime, policy: ReliefPolicy) -> list[datetime]:
    """When the prompts go out: each prompt offset, then the return check."""
    start = performed_at.astimezone(UTC)  # real elapsed time, whatever zone the time came in
    return [start + offset for offset in (*policy.prompt_offsets, policy.return_check_offset)]


def diary_window_end(performed_at: datetime, policy: ReliefPolicy) -> datetime:
    """When the relief check is evaluated if the return check is never answered."""
    return performed_at.astimezone(UTC) + policy.return_check_offset + policy.final_answer_window
