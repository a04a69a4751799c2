"""Criterion 4: judging a medial branch block from the patient's pain diary (DESIGN.md §2, issue 7)."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from domain.config import ReliefPolicy
from domain.stages import ReliefResult


class DiaryEntry(BaseModel):
    """One pain report, placed by its recorded time after the block."""

    model_config = ConfigDict(frozen=True)

    after_block: timedelta
    pain: int = Field(ge=0, le=10)


class ReliefEvaluation(BaseModel):
    model_config = ConfigDict(frozen=True)

    result: ReliefResult
    peak_relief_pct: int | None
    reason: str
    # The run that counts (the first): when its first report came after the block, and how long it lasted
    # from its first to its last report. None when there is no run.
    onset: timedelta | None = None
    run_duration: timedelta | None = None
    # How long relief lasted, from the onset: to the first diary report after the run with relief under
    # `returned_below` (the usual pain back) when positive; to the last diary report when prolonged, a lower
    # bound (relief outlasted the diary). None for the other verdicts.
    relief_lasted: timedelta | None = None


class Run(BaseModel):
    """Indexes into the time-ordered diary of a run's first and last reports."""

    model_config = ConfigDict(frozen=True)

    first: int
    last: int


def relief_fraction(baseline: int, pain: int) -> float:
    """(baseline - pain) / baseline; negative when the pain is worse than before the block."""
    return (baseline - pain) / baseline


def diary_of(entries: Sequence[DiaryEntry], policy: ReliefPolicy) -> list[DiaryEntry]:
    """The diary: every report recorded before the +24 h return check, in recorded-time order. Reports are
    ordered by time and then score, so the order they arrived in never matters."""
    kept = {(e.after_block, e.pain): e for e in entries if e.after_block < policy.return_check_offset}
    return [kept[key] for key in sorted(kept)]


def last_prompt(policy: ReliefPolicy) -> timedelta:
    """The last diary prompt before the return check (+8 h by default)."""
    return max(policy.prompt_offsets)


def evaluate_relief(baseline: int, entries: Sequence[DiaryEntry], policy: ReliefPolicy) -> ReliefEvaluation:
    """The verdict is the first of these that holds (issue 7, "The relief rule"):

    1. indeterminate: baseline under `min_baseline`, or fewer than `min_reports` diary reports;
    2. negative: no run;
    3. positive: a diary report after the run has relief under `returned_below` (the usual pain came back);
    4. prolonged: relief stayed at `returned_below` or more through the last diary prompt, i.e. a report at or
       after the last prompt less `answer_tolerance` (the clinician decides);
    5. indeterminate: otherwise (the diary stops before the last prompt: missing data, not prolonged relief).

    A run is a maximal sequence of `consecutive_at_threshold` or more consecutive diary reports with relief at
    or above the threshold, at least `min_run_duration` from its first to its last report, whose first report
    lies within `onset_window` and within `run_start_within` of the block. The first run counts. Reports at or
    after the return check are not the diary and never change the verdict.

    How long relief lasted (`relief_lasted`) runs from the run's first report: to the report that found the
    usual pain back (positive), or to the last diary report (prolonged: a lower bound, relief outlasted the
    diary). It is what comparative blocks compare (domain.comparative_blocks), not the run's own length.
    """
    diary = diary_of(entries, policy)
    peak = (
        max(0, round(100 * max(relief_fraction(baseline, e.pain) for e in diary)))
        if diary and baseline > 0
        else None
    )

    def verdict(
        result: ReliefResult, reason: str, run: Run | None = None, lasted_until: DiaryEntry | None = None
    ) -> ReliefEvaluation:
        onset = diary[run.first].after_block if run else None
        return ReliefEvaluation(
            result=result,
            peak_relief_pct=peak,
            reason=reason,
            onset=onset,
            run_duration=diary[run.last].after_block - onset if run and onset is not None else None,
            relief_lasted=lasted_until.after_block - onset if lasted_until and onset is not None else None,
        )

    if baseline < policy.min_baseline:
        return verdict(ReliefResult.INDETERMINATE, f"baseline pain {baseline} is under {policy.min_baseline}")
    if len(diary) < policy.min_reports:
        return verdict(
            ReliefResult.INDETERMINATE, f"{len(diary)} diary reports, fewer than {policy.min_reports}"
        )
    run = first_run(baseline, diary, policy)
    threshold_pct = round(policy.threshold * 100)
    if run is None:
        return verdict(
            ReliefResult.NEGATIVE,
            f"no run of {policy.consecutive_at_threshold} or more reports at {threshold_pct}% relief lasting "
            f"{_duration_text(policy.min_run_duration)} and starting within "
            f"{_duration_text(min(policy.onset_window, policy.run_start_within))}",
        )
    returned_pct = round(policy.returned_below * 100)
    returned = next(
        (e for e in diary[run.last + 1 :] if relief_fraction(baseline, e.pain) < policy.returned_below), None
    )
    if returned is not None:
        return verdict(
            ReliefResult.POSITIVE,
            f"relief at {threshold_pct}%, then pain returned (relief under {returned_pct}%)",
            run,
            lasted_until=returned,
        )
    if diary[-1].after_block >= last_prompt(policy) - policy.answer_tolerance:
        return verdict(
            ReliefResult.PROLONGED,
            f"relief stayed at {returned_pct}% or more through the last diary prompt",
            run,
            lasted_until=diary[-1],
        )
    return verdict(
        ReliefResult.INDETERMINATE,
        f"relief at {threshold_pct}%, then the diary stopped before the last prompt, pain not returned",
        run,
    )


def first_run(baseline: int, diary: Sequence[DiaryEntry], policy: ReliefPolicy) -> Run | None:
    """The first run in the time-ordered diary (see `evaluate_relief`), if any."""
    start_by = min(policy.onset_window, policy.run_start_within)
    index = 0
    while index < len(diary):
        if relief_fraction(baseline, diary[index].pain) < policy.threshold:
            index += 1
            continue
        last = index
        while last + 1 < len(diary) and relief_fraction(baseline, diary[last + 1].pain) >= policy.threshold:
            last += 1
        first_at, last_at = diary[index].after_block, diary[last].after_block
        if (
            last - index + 1 >= policy.consecutive_at_threshold
            and last_at - first_at >= policy.min_run_duration
            and first_at <= start_by
        ):
            return Run(first=index, last=last)
        index = last + 1
    return None


def in_minutes(duration: timedelta | None) -> float | None:
    """A duration as minutes (to the hundredth, as the demo profile's runs last seconds), for the view."""
    return None if duration is None else round(duration.total_seconds() / 60, 2)


def _duration_text(duration: timedelta) -> str:
    """A setting's duration for a reason: in hours or minutes when whole, else seconds (the demo profile)."""
    seconds = duration.total_seconds()
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def diary_schedule(performed_at: datetime, policy: ReliefPolicy) -> list[datetime]:
    """When the prompts go out: each prompt offset, then the return check."""
    start = performed_at.astimezone(UTC)  # real elapsed time, whatever zone the time came in
    return [start + offset for offset in (*policy.prompt_offsets, policy.return_check_offset)]


def return_check_at(performed_at: datetime, policy: ReliefPolicy) -> datetime:
    """The +24 h return check's moment: a report recorded at or after it answers the return check."""
    return performed_at.astimezone(UTC) + policy.return_check_offset


def diary_window_end(performed_at: datetime, policy: ReliefPolicy) -> datetime:
    """When the relief check is evaluated if the return check is never answered."""
    return performed_at.astimezone(UTC) + policy.return_check_offset + policy.final_answer_window
