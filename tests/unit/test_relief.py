"""Criterion 4: judging a medial branch block from the pain diary (issue 7, "The relief rule")."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.config import CLINICAL, DEMO, DEMO_FACTOR, ReliefPolicy, ReliefThreshold, config_for
from domain.relief import (
    DiaryEntry,
    diary_schedule,
    diary_window_end,
    evaluate_relief,
    in_minutes,
    last_prompt,
    relief_fraction,
)
from domain.stages import ReliefResult

POLICY = ReliefPolicy()
THRESHOLDS: tuple[ReliefThreshold, ...] = (0.5, 0.8, 1.0)
REACHED = {ReliefResult.POSITIVE, ReliefResult.PROLONGED}
BLOCK_AT = datetime(2025, 11, 25, 15, 30, tzinfo=UTC)


def policy_at(threshold: ReliefThreshold) -> ReliefPolicy:
    return POLICY.model_copy(update={"threshold": threshold})


def diary(*reports: tuple[float, int]) -> list[DiaryEntry]:
    """Entries from (hours after the block, pain) pairs."""
    return [DiaryEntry(after_block=timedelta(hours=hours), pain=pain) for hours, pain in reports]


# Minutes after the block, up to the +24 h return check and a bit beyond; half of them at the prompts, so
# runs within the onset window and reports at the last prompt come up often.
PROMPTS = (*POLICY.prompt_offsets, POLICY.return_check_offset)
offsets_st = st.one_of(
    st.sampled_from(PROMPTS),
    st.integers(min_value=0, max_value=26 * 60).map(lambda m: timedelta(minutes=m)),
)
baseline_st = st.integers(min_value=0, max_value=10)
pain_st = st.integers(min_value=0, max_value=10)
threshold_st = st.sampled_from(THRESHOLDS)


@st.composite
def entries_st(
    draw: st.DrawFn,
    pains: st.SearchStrategy[int] = pain_st,
    min_size: int = 0,
    offsets: st.SearchStrategy[timedelta] = offsets_st,
) -> list[DiaryEntry]:
    """A diary with at most one report per instant (the relief check refuses a second score there)."""
    at = draw(st.lists(offsets, min_size=min_size, max_size=12, unique=True))
    return [DiaryEntry(after_block=offset, pain=draw(pains)) for offset in at]


# --- a second, independent statement of the rule -----------------------------------------------------------


def reference_diary(entries: Sequence[DiaryEntry], policy: ReliefPolicy) -> list[tuple[timedelta, int]]:
    return sorted({(e.after_block, e.pain) for e in entries if e.after_block < policy.return_check_offset})


def reference_runs(
    baseline: int, entries: Sequence[DiaryEntry], policy: ReliefPolicy
) -> list[tuple[int, int]]:
    """Every (first, last) index pair of the diary that is a run, by brute force over all segments."""
    reports = reference_diary(entries, policy)
    relief = [(baseline - pain) / baseline for _, pain in reports]
    at = [when for when, _ in reports]
    n = len(reports)
    return [
        (i, j)
        for i in range(n)
        for j in range(i + policy.consecutive_at_threshold - 1, n)
        if all(relief[k] >= policy.threshold for k in range(i, j + 1))
        and (i == 0 or relief[i - 1] < policy.threshold)
        and (j == n - 1 or relief[j + 1] < policy.threshold)
        and at[j] - at[i] >= policy.min_run_duration
        and at[i] <= policy.onset_window
        and at[i] <= policy.run_start_within
    ]


def reference_verdicts(
    baseline: int, entries: Sequence[DiaryEntry], policy: ReliefPolicy
) -> list[ReliefResult]:
    """Each verdict whose own condition holds, the conditions written as disjoint predicates (each with
    the negation of the ones before it), so the rule's "first that holds" is checked to be a partition."""
    reports = reference_diary(entries, policy)
    no_data = baseline < policy.min_baseline or len(reports) < policy.min_reports
    runs = [] if no_data else reference_runs(baseline, entries, policy)
    last = min(runs)[1] if runs else None
    returned = last is not None and any(
        (baseline - p) / baseline < policy.returned_below for _, p in reports[last + 1 :]
    )
    through_last_prompt = (
        bool(reports) and reports[-1][0] >= max(policy.prompt_offsets) - policy.answer_tolerance
    )
    holds = {
        ReliefResult.INDETERMINATE: no_data or (bool(runs) and not returned and not through_last_prompt),
        ReliefResult.NEGATIVE: not no_data and not runs,
        ReliefResult.POSITIVE: not no_data and bool(runs) and returned,
        ReliefResult.PROLONGED: not no_data and bool(runs) and not returned and through_last_prompt,
    }
    return [verdict for verdict, held in holds.items() if held]


# --- concrete examples -------------------------------------------------------------------------------------


def test_positive_relief_for_a_run_then_usual_pain_returns() -> None:
    evaluation = evaluate_relief(8, diary((0.25, 1), (1, 1), (2, 7)), POLICY)
    assert evaluation.result is ReliefResult.POSITIVE
    assert evaluation.peak_relief_pct == 88  # 7 / 8 = 87.5 %
    assert evaluation.onset == timedelta(minutes=15)
    assert evaluation.run_duration == timedelta(minutes=45)


def test_a_run_shorter_than_thirty_minutes_is_negative() -> None:
    evaluation = evaluate_relief(8, diary((0.25, 1), (0.5, 1), (2, 7)), POLICY)
    assert evaluation.result is ReliefResult.NEGATIVE
    assert evaluation.onset is None and evaluation.run_duration is None
    assert "30 min" in evaluation.reason and "2 h" in evaluation.reason


def test_a_run_of_exactly_thirty_minutes_counts() -> None:
    assert evaluate_relief(8, diary((0.25, 1), (0.75, 1), (2, 7)), POLICY).result is ReliefResult.POSITIVE


def test_one_report_at_the_threshold_is_not_a_run() -> None:
    assert evaluate_relief(8, diary((1, 0), (2, 7), (3, 7)), POLICY).result is ReliefResult.NEGATIVE


def test_relief_beginning_after_the_onset_window_is_not_the_blocks() -> None:
    evaluation = evaluate_relief(8, diary((0.25, 7), (2.5, 1), (3.5, 1), (5, 7)), POLICY)
    assert evaluation.result is ReliefResult.NEGATIVE


def test_a_run_starting_exactly_at_the_onset_window_end_counts() -> None:
    evaluation = evaluate_relief(8, diary((1, 7), (2, 1), (3, 1), (5, 7)), POLICY)
    assert evaluation.result is ReliefResult.POSITIVE
    assert evaluation.onset == timedelta(hours=2)


def test_the_onset_window_and_the_first_hours_are_settings() -> None:
    late = diary((0.25, 7), (2.5, 1), (3.5, 1), (5, 7))
    wider = POLICY.model_copy(update={"onset_window": timedelta(hours=3)})
    assert evaluate_relief(8, late, wider).result is ReliefResult.POSITIVE
    # The run must also start within the first hours, whatever the onset window.
    very_late = diary((0.25, 7), (6.5, 1), (7.5, 1), (8, 7))
    no_onset_limit = POLICY.model_copy(update={"onset_window": timedelta(hours=12)})
    assert evaluate_relief(8, very_late, no_onset_limit).result is ReliefResult.NEGATIVE
    assert (
        evaluate_relief(
            8, very_late, no_onset_limit.model_copy(update={"run_start_within": timedelta(hours=7)})
        ).result
        is ReliefResult.POSITIVE
    )
    shorter_run = POLICY.model_copy(update={"min_run_duration": timedelta(minutes=15)})
    assert evaluate_relief(8, diary((0.25, 1), (0.5, 1), (2, 7)), shorter_run).result is ReliefResult.POSITIVE


def test_a_short_first_stretch_does_not_count_and_a_later_run_within_onset_does() -> None:
    evaluation = evaluate_relief(10, diary((0.25, 1), (0.5, 1), (0.75, 5), (1, 1), (2, 1), (3, 8)), POLICY)
    assert evaluation.result is ReliefResult.POSITIVE
    assert evaluation.onset == timedelta(hours=1)
    assert evaluation.run_duration == timedelta(hours=1)


def test_the_first_run_counts() -> None:
    # Two runs; pain comes back (30 %) only between them, so it is a return after the first run.
    evaluation = evaluate_relief(10, diary((0.25, 1), (1, 1), (1.25, 7), (1.5, 1), (2, 1), (8, 1)), POLICY)
    assert evaluation.result is ReliefResult.POSITIVE
    assert evaluation.onset == timedelta(minutes=15)
    assert evaluation.run_duration == timedelta(minutes=45)


def test_prolonged_when_relief_holds_through_the_last_prompt() -> None:
    evaluation = evaluate_relief(8, diary((0.25, 1), (1, 1), (8, 1)), POLICY)
    assert evaluation.result is ReliefResult.PROLONGED
    assert evaluation.peak_relief_pct == 88
    assert evaluation.run_duration == timedelta(hours=7, minutes=45)


def test_prolonged_with_full_diary_at_zero_pain() -> None:
    entries = [DiaryEntry(after_block=offset, pain=0) for offset in POLICY.prompt_offsets]
    evaluation = evaluate_relief(9, entries, POLICY)
    assert evaluation.result is ReliefResult.PROLONGED
    assert evaluation.peak_relief_pct == 100


def test_the_last_prompt_is_answered_within_its_tolerance() -> None:
    at_tolerance = 8 - 10 / 60
    held = evaluate_relief(8, diary((0.25, 1), (1, 1), (at_tolerance, 1)), POLICY)
    assert held.result is ReliefResult.PROLONGED
    too_early = evaluate_relief(8, diary((0.25, 1), (1, 1), (at_tolerance - 1 / 60, 1)), POLICY)
    assert too_early.result is ReliefResult.INDETERMINATE


def test_a_diary_that_stops_before_the_last_prompt_is_indeterminate_not_prolonged() -> None:
    evaluation = evaluate_relief(8, diary((0.25, 1), (1, 1), (3, 1)), POLICY)
    assert evaluation.result is ReliefResult.INDETERMINATE
    assert evaluation.onset == timedelta(minutes=15)  # the run is shown, the verdict waits for the clinician
    assert "last prompt" in evaluation.reason


def test_pain_before_the_run_is_not_a_return() -> None:
    evaluation = evaluate_relief(10, diary((0.25, 9), (0.5, 1), (1, 1), (8, 1)), POLICY)
    assert evaluation.result is ReliefResult.PROLONGED


def test_partial_wearing_off_is_not_a_return() -> None:
    # Relief falls to 60 %: under the threshold but not under `returned_below` (50 %).
    evaluation = evaluate_relief(10, diary((0.5, 1), (1, 1), (8, 4)), POLICY)
    assert evaluation.result is ReliefResult.PROLONGED


def test_return_exactly_at_half_relief_is_not_a_return() -> None:
    evaluation = evaluate_relief(10, diary((0.5, 1), (1, 1), (8, 5)), POLICY)
    assert evaluation.result is ReliefResult.PROLONGED
    evaluation = evaluate_relief(10, diary((0.5, 1), (1, 1), (8, 6)), POLICY)
    assert evaluation.result is ReliefResult.POSITIVE


def test_relief_exactly_at_the_threshold_counts() -> None:
    assert (
        evaluate_relief(10, diary((0.5, 2), (1, 2), (8, 9)), policy_at(0.8)).result is ReliefResult.POSITIVE
    )
    assert evaluate_relief(5, diary((0.5, 1), (1, 1), (8, 5)), policy_at(0.8)).result is ReliefResult.POSITIVE
    assert evaluate_relief(4, diary((0.5, 2), (1, 2), (8, 4)), policy_at(0.5)).result is ReliefResult.POSITIVE


@pytest.mark.parametrize(
    ("pain_at_relief", "expected"),
    [
        (0, {0.5: ReliefResult.POSITIVE, 0.8: ReliefResult.POSITIVE, 1.0: ReliefResult.POSITIVE}),
        (1, {0.5: ReliefResult.POSITIVE, 0.8: ReliefResult.POSITIVE, 1.0: ReliefResult.NEGATIVE}),
        (4, {0.5: ReliefResult.POSITIVE, 0.8: ReliefResult.NEGATIVE, 1.0: ReliefResult.NEGATIVE}),
        (5, {0.5: ReliefResult.NEGATIVE, 0.8: ReliefResult.NEGATIVE, 1.0: ReliefResult.NEGATIVE}),
    ],
)
def test_selectable_thresholds(pain_at_relief: int, expected: dict[float, ReliefResult]) -> None:
    entries = diary((0.5, pain_at_relief), (1, pain_at_relief), (8, 8))
    for threshold in THRESHOLDS:
        assert evaluate_relief(8, entries, policy_at(threshold)).result is expected[threshold], threshold


def test_config_for_threshold_reaches_evaluation() -> None:
    entries = diary((0.5, 4), (1, 4), (8, 8))
    assert evaluate_relief(8, entries, config_for("clinical", 0.5).relief).result is ReliefResult.POSITIVE
    assert evaluate_relief(8, entries, config_for("clinical").relief).result is ReliefResult.NEGATIVE


def test_indeterminate_with_fewer_than_three_reports() -> None:
    evaluation = evaluate_relief(8, diary((1, 0), (2, 0)), POLICY)
    assert evaluation.result is ReliefResult.INDETERMINATE
    assert evaluation.peak_relief_pct == 100
    assert "2 diary reports" in evaluation.reason


def test_indeterminate_with_low_baseline() -> None:
    evaluation = evaluate_relief(2, diary((0.5, 0), (1, 0), (8, 2)), POLICY)
    assert evaluation.result is ReliefResult.INDETERMINATE
    assert "baseline" in evaluation.reason


def test_indeterminate_with_no_reports() -> None:
    evaluation = evaluate_relief(8, [], POLICY)
    assert evaluation.result is ReliefResult.INDETERMINATE
    assert evaluation.peak_relief_pct is None


def test_zero_baseline_does_not_divide_by_zero() -> None:
    evaluation = evaluate_relief(0, diary((1, 0), (2, 0), (3, 0)), POLICY)
    assert evaluation.result is ReliefResult.INDETERMINATE
    assert evaluation.peak_relief_pct is None


def test_worse_pain_gives_zero_peak_relief() -> None:
    evaluation = evaluate_relief(5, diary((1, 7), (2, 9), (3, 6)), POLICY)
    assert evaluation.result is ReliefResult.NEGATIVE
    assert evaluation.peak_relief_pct == 0


def test_the_return_check_answer_is_not_part_of_the_diary() -> None:
    # The +24 h answer shows the pain back, but the diary stopped at 3 h: still indeterminate.
    assert (
        evaluate_relief(8, diary((0.25, 1), (1, 1), (3, 1), (24, 8)), POLICY).result
        is ReliefResult.INDETERMINATE
    )
    # Nor does it make up the diary's count of reports.
    evaluation = evaluate_relief(8, diary((0.25, 1), (1, 1), (24, 8)), POLICY)
    assert evaluation.result is ReliefResult.INDETERMINATE
    assert "2 diary reports" in evaluation.reason


def test_reports_are_sorted_by_time_not_arrival() -> None:
    late_first = diary((2, 7), (1, 1), (0.25, 1))
    assert evaluate_relief(8, late_first, POLICY).result is ReliefResult.POSITIVE


def test_the_same_report_twice_is_one_report() -> None:
    evaluation = evaluate_relief(8, diary((0.25, 1), (0.25, 1), (1, 1)), POLICY)
    assert evaluation.result is ReliefResult.INDETERMINATE
    assert "2 diary reports" in evaluation.reason


def test_two_scores_at_one_instant_give_one_verdict_whatever_their_order() -> None:
    """The relief check refuses a second score at an instant (409); the rule does not depend on it."""
    relief_then_pain = diary((0.25, 0), (1, 0), (1, 9), (8, 0))
    pain_then_relief = diary((0.25, 0), (1, 9), (1, 0), (8, 0))
    assert evaluate_relief(10, relief_then_pain, POLICY) == evaluate_relief(10, pain_then_relief, POLICY)


def test_relief_fraction() -> None:
    assert relief_fraction(8, 2) == 0.75
    assert relief_fraction(10, 0) == 1.0
    assert relief_fraction(4, 6) == -0.5


def test_minutes_for_the_view() -> None:
    assert in_minutes(None) is None
    assert in_minutes(timedelta(minutes=45)) == 45
    assert in_minutes(timedelta(seconds=2.5)) == 0.04


def test_demo_policy_judges_compressed_diary_alike() -> None:
    # One clinical hour is five demo seconds: the onset window is 10 s, a run lasts 2.5 s at least.
    def seconds(*reports: tuple[float, int]) -> list[DiaryEntry]:
        return [DiaryEntry(after_block=timedelta(seconds=s), pain=p) for s, p in reports]

    assert (
        evaluate_relief(8, seconds((1.25, 1), (5, 1), (10, 7)), DEMO.relief).result is ReliefResult.POSITIVE
    )
    assert (
        evaluate_relief(8, seconds((1.25, 7), (15, 1), (20, 7)), DEMO.relief).result is ReliefResult.NEGATIVE
    )
    assert (
        evaluate_relief(8, seconds((1.25, 1), (5, 1), (40, 1)), DEMO.relief).result is ReliefResult.PROLONGED
    )


def test_the_readme_walk_is_positive_in_the_demo_profile() -> None:
    # README step 3: pain 1 at once, pain 0 after `sleep 3`, then pain 7, within the 10 s onset window.
    entries = [DiaryEntry(after_block=timedelta(seconds=s), pain=p) for s, p in ((1, 1), (4.5, 0), (5, 7))]
    assert evaluate_relief(8, entries, DEMO.relief).result is ReliefResult.POSITIVE


# --- properties --------------------------------------------------------------------------------------------


@given(baseline=baseline_st, entries=entries_st(), threshold=threshold_st)
def test_exactly_one_verdict_for_every_diary(
    baseline: int, entries: list[DiaryEntry], threshold: ReliefThreshold
) -> None:
    policy = policy_at(threshold)
    verdicts = reference_verdicts(baseline, entries, policy)
    assert len(verdicts) == 1
    assert evaluate_relief(baseline, entries, policy).result is verdicts[0]


@given(
    baseline=st.integers(min_value=3, max_value=10), entries=entries_st(min_size=3), threshold=threshold_st
)
def test_the_run_shown_is_the_first_run(
    baseline: int, entries: list[DiaryEntry], threshold: ReliefThreshold
) -> None:
    policy = policy_at(threshold)
    evaluation = evaluate_relief(baseline, entries, policy)
    runs = reference_runs(baseline, entries, policy)
    reports = reference_diary(entries, policy)
    if len(reports) < policy.min_reports:
        return
    if not runs:
        assert evaluation.onset is None and evaluation.run_duration is None
    else:
        first, last = min(runs)
        assert evaluation.onset == reports[first][0]
        assert evaluation.run_duration == reports[last][0] - reports[first][0]
        assert evaluation.run_duration >= policy.min_run_duration
        assert evaluation.onset <= policy.onset_window


@given(data=st.data(), baseline=st.integers(min_value=1, max_value=10), threshold=threshold_st)
def test_never_positive_without_a_run(data: st.DataObject, baseline: int, threshold: ReliefThreshold) -> None:
    policy = policy_at(threshold)
    entries = data.draw(entries_st())
    evaluation = evaluate_relief(baseline, entries, policy)
    if not reference_runs(baseline, entries, policy):
        assert evaluation.result not in REACHED
        assert evaluation.onset is None
    # In particular, a diary never at the threshold is never positive nor prolonged.
    below = st.integers(0, 10).filter(lambda p: relief_fraction(baseline, p) < threshold)
    never_at_threshold = data.draw(entries_st(pains=below))
    assert evaluate_relief(baseline, never_at_threshold, policy).result not in REACHED


@given(baseline=baseline_st, entries=entries_st())
def test_monotone_in_the_threshold(baseline: int, entries: list[DiaryEntry]) -> None:
    """Raising the threshold (50 -> 80 -> 100 %) only removes runs: a run at a higher threshold lies within a
    run at a lower one, which qualifies too. So, for a lower and a higher threshold:
    - negative at the lower is negative at the higher (no run stays no run);
    - positive at the higher is positive at the lower (the return after the higher run follows the lower);
    - positive or prolonged at the higher is positive or prolonged at the lower;
    - prolonged at the lower is prolonged or negative at the higher;
    - indeterminate for want of data (baseline, report count) does not depend on the threshold.
    Nothing more: a higher threshold can turn positive into prolonged when its run starts after a dip."""
    evaluations = [evaluate_relief(baseline, entries, policy_at(t)) for t in THRESHOLDS]
    for lower, higher in pairwise(evaluations):
        if lower.result is ReliefResult.NEGATIVE:
            assert higher.result is ReliefResult.NEGATIVE
        if higher.result is ReliefResult.POSITIVE:
            assert lower.result is ReliefResult.POSITIVE
        if higher.result in REACHED:
            assert lower.result in REACHED
        if lower.result is ReliefResult.PROLONGED:
            assert higher.result in {ReliefResult.PROLONGED, ReliefResult.NEGATIVE}
        if higher.onset is not None:
            assert lower.onset is not None and lower.onset <= higher.onset
        no_data = lower.onset is None and lower.result is ReliefResult.INDETERMINATE
        assert no_data == (higher.onset is None and higher.result is ReliefResult.INDETERMINATE)


@given(baseline=baseline_st, entries=entries_st(), threshold=threshold_st, data=st.data())
def test_order_of_arrival_never_changes_the_verdict(
    baseline: int, entries: list[DiaryEntry], threshold: ReliefThreshold, data: st.DataObject
) -> None:
    policy = policy_at(threshold)
    resent = data.draw(st.lists(st.sampled_from(entries), max_size=3)) if entries else []  # sent again
    arrived = data.draw(st.permutations([*entries, *resent]))
    assert evaluate_relief(baseline, arrived, policy) == evaluate_relief(baseline, entries, policy)


@given(
    baseline=baseline_st,
    entries=entries_st(),
    threshold=threshold_st,
    answers=st.lists(
        st.builds(
            DiaryEntry,
            after_block=st.integers(min_value=0, max_value=4 * 60).map(
                lambda m: POLICY.return_check_offset + timedelta(minutes=m)
            ),
            pain=pain_st,
        ),
        min_size=1,
        max_size=2,
    ),
)
def test_the_return_check_answer_never_changes_the_verdict(
    baseline: int, entries: list[DiaryEntry], threshold: ReliefThreshold, answers: list[DiaryEntry]
) -> None:
    policy = policy_at(threshold)
    diary_only = [e for e in entries if e.after_block < policy.return_check_offset]
    assert evaluate_relief(baseline, [*diary_only, *answers], policy) == evaluate_relief(
        baseline, diary_only, policy
    )


@given(baseline=st.integers(min_value=0, max_value=2), entries=entries_st(), threshold=threshold_st)
def test_baseline_under_three_is_always_indeterminate(
    baseline: int, entries: list[DiaryEntry], threshold: ReliefThreshold
) -> None:
    assert evaluate_relief(baseline, entries, policy_at(threshold)).result is ReliefResult.INDETERMINATE


@given(baseline=baseline_st, entries=entries_st(), threshold=threshold_st)
def test_fewer_than_three_diary_reports_is_indeterminate(
    baseline: int, entries: list[DiaryEntry], threshold: ReliefThreshold
) -> None:
    policy = policy_at(threshold)
    if len(reference_diary(entries, policy)) < 3:
        assert evaluate_relief(baseline, entries, policy).result is ReliefResult.INDETERMINATE


@given(baseline=baseline_st, entries=entries_st(), threshold=threshold_st)
def test_peak_relief_is_a_percentage_of_the_diary(
    baseline: int, entries: list[DiaryEntry], threshold: ReliefThreshold
) -> None:
    policy = policy_at(threshold)
    peak = evaluate_relief(baseline, entries, policy).peak_relief_pct
    reports = reference_diary(entries, policy)
    if not reports or baseline == 0:
        assert peak is None
    else:
        assert peak is not None
        assert 0 <= peak <= 100
        best = max(relief_fraction(baseline, pain) for _, pain in reports)
        assert abs(peak - max(0.0, 100 * best)) <= 0.5


@given(baseline=st.integers(min_value=3, max_value=10), entries=entries_st(), threshold=threshold_st)
def test_reached_results_have_peak_at_threshold(
    baseline: int, entries: list[DiaryEntry], threshold: ReliefThreshold
) -> None:
    evaluation = evaluate_relief(baseline, entries, policy_at(threshold))
    if evaluation.result in REACHED:
        assert evaluation.peak_relief_pct is not None
        assert evaluation.peak_relief_pct >= round(100 * threshold)


@given(baseline=baseline_st, entries=entries_st(), threshold=threshold_st)
def test_compressing_time_does_not_change_the_result(
    baseline: int, entries: list[DiaryEntry], threshold: ReliefThreshold
) -> None:
    clinical = policy_at(threshold)
    demo_policy = CLINICAL.compressed(DEMO_FACTOR).relief.model_copy(update={"threshold": threshold})
    compressed = [DiaryEntry(after_block=e.after_block / DEMO_FACTOR, pain=e.pain) for e in entries]
    assert (
        evaluate_relief(baseline, compressed, demo_policy).result
        is evaluate_relief(baseline, entries, clinical).result
    )


# --- the diary's schedule ----------------------------------------------------------------------------------


def test_clinical_diary_schedule() -> None:
    hours = [0.25, 0.5, 1, 2, 3, 4, 5, 6, 8, 24]
    assert diary_schedule(BLOCK_AT, CLINICAL.relief) == [BLOCK_AT + timedelta(hours=h) for h in hours]


def test_clinical_diary_window_end() -> None:
    assert diary_window_end(BLOCK_AT, CLINICAL.relief) == BLOCK_AT + timedelta(hours=28)


def test_demo_diary_runs_in_seconds() -> None:
    schedule = diary_schedule(BLOCK_AT, DEMO.relief)
    assert schedule[0] == BLOCK_AT + timedelta(seconds=1.25)
    assert schedule[-1] == BLOCK_AT + timedelta(seconds=60)
    assert diary_window_end(BLOCK_AT, DEMO.relief) == BLOCK_AT + timedelta(seconds=75)


@given(
    performed_at=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    policy=st.sampled_from([CLINICAL.relief, DEMO.relief]),
)
def test_schedule_is_increasing_and_ends_before_the_window(
    performed_at: datetime, policy: ReliefPolicy
) -> None:
    schedule = diary_schedule(performed_at, policy)
    assert len(schedule) == len(policy.prompt_offsets) + 1
    assert all(performed_at < at for at in schedule)
    assert schedule == sorted(schedule)
    assert len(set(schedule)) == len(schedule)
    assert schedule[-1] == performed_at + policy.return_check_offset
    assert schedule[-1] < diary_window_end(performed_at, policy)
    # A run can start at a prompt within the onset window, and a report at the last prompt can show
    # relief held through it.
    assert any(at - performed_at <= policy.onset_window for at in schedule)
    assert schedule[-2] - performed_at == last_prompt(policy)
