"""Criterion 4: judging a medial branch block from the pain diary (DESIGN.md §2)."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.config import CLINICAL, DEMO, DEMO_FACTOR, ReliefPolicy, ReliefThreshold, config_for
from domain.relief import DiaryEntry, diary_schedule, diary_window_end, evaluate_relief, relief_fraction
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


# Minutes after the block, up to the +24 h return check and a bit beyond; unique, since the diary has one
# report per moment (see test_reports_at_the_same_moment_depend_on_arrival_order for why).
offsets_st = st.integers(min_value=0, max_value=26 * 60).map(lambda m: timedelta(minutes=m))
baseline_st = st.integers(min_value=0, max_value=10)
pain_st = st.integers(min_value=0, max_value=10)
threshold_st = st.sampled_from(THRESHOLDS)


@st.composite
def entries_st(
    draw: st.DrawFn, pains: st.SearchStrategy[int] = pain_st, min_size: int = 0
) -> list[DiaryEntry]:
    offsets = draw(st.lists(offsets_st, min_size=min_size, max_size=12, unique=True))
    return [DiaryEntry(after_block=offset, pain=draw(pains)) for offset in offsets]


def reference(baseline: int, entries: Sequence[DiaryEntry], policy: ReliefPolicy) -> ReliefResult:
    """A second, independent statement of the §2 rule: two consecutive reports at the threshold within the
    window, later a report with relief under `returned_below`."""
    if baseline < policy.min_baseline or len(entries) < policy.min_reports:
        return ReliefResult.INDETERMINATE
    ordered = sorted(entries, key=lambda e: e.after_block)
    n = policy.consecutive_at_threshold
    for end in range(n - 1, len(ordered)):
        run = ordered[end - n + 1 : end + 1]
        if all(e.after_block <= policy.positive_window for e in run) and all(
            (baseline - e.pain) / baseline >= policy.threshold for e in run
        ):
            later = ordered[end + 1 :]
            if any((baseline - e.pain) / baseline < policy.returned_below for e in later):
                return ReliefResult.POSITIVE
            return ReliefResult.PROLONGED
    return ReliefResult.NEGATIVE


# --- concrete examples -------------------------------------------------------------------------------------


def test_positive_relief_then_usual_pain_returns() -> None:
    evaluation = evaluate_relief(8, diary((1, 1), (2, 1), (8, 7)), POLICY)
    assert evaluation.result is ReliefResult.POSITIVE
    assert evaluation.peak_relief_pct == 88  # 7 / 8 = 87.5 %


def test_prolonged_when_relief_never_wears_off() -> None:
    evaluation = evaluate_relief(8, diary((1, 1), (2, 1), (8, 1)), POLICY)
    assert evaluation.result is ReliefResult.PROLONGED
    assert evaluation.peak_relief_pct == 88


def test_prolonged_with_full_diary_at_zero_pain() -> None:
    entries = [DiaryEntry(after_block=offset, pain=0) for offset in POLICY.prompt_offsets]
    evaluation = evaluate_relief(9, entries, POLICY)
    assert evaluation.result is ReliefResult.PROLONGED
    assert evaluation.peak_relief_pct == 100


def test_negative_when_qualifying_reports_come_only_after_the_window() -> None:
    evaluation = evaluate_relief(8, diary((1, 7), (7, 1), (8, 1), (24, 7)), POLICY)
    assert evaluation.result is ReliefResult.NEGATIVE
    assert evaluation.peak_relief_pct == 88


def test_negative_when_relief_stays_below_threshold() -> None:
    evaluation = evaluate_relief(10, diary((0.25, 5), (1, 4), (2, 3), (8, 6)), POLICY)
    assert evaluation.result is ReliefResult.NEGATIVE
    assert evaluation.peak_relief_pct == 70
    assert "80%" in evaluation.reason


def test_negative_when_threshold_reports_are_not_consecutive() -> None:
    evaluation = evaluate_relief(10, diary((1, 1), (2, 6), (3, 1), (4, 6), (8, 9)), POLICY)
    assert evaluation.result is ReliefResult.NEGATIVE


def test_run_straddling_the_window_end_does_not_count() -> None:
    evaluation = evaluate_relief(10, diary((1, 8), (6, 1), (8, 1), (24, 9)), POLICY)
    assert evaluation.result is ReliefResult.NEGATIVE


def test_report_exactly_at_the_window_end_counts() -> None:
    evaluation = evaluate_relief(10, diary((5, 1), (6, 1), (24, 9)), POLICY)
    assert evaluation.result is ReliefResult.POSITIVE


def test_pain_before_relief_is_not_a_return() -> None:
    evaluation = evaluate_relief(10, diary((0.25, 9), (1, 1), (2, 1)), POLICY)
    assert evaluation.result is ReliefResult.PROLONGED


def test_partial_wearing_off_is_not_a_return() -> None:
    # Relief falls to 60 %: under the threshold but not under `returned_below` (50 %).
    evaluation = evaluate_relief(10, diary((1, 1), (2, 1), (8, 4)), POLICY)
    assert evaluation.result is ReliefResult.PROLONGED


def test_return_exactly_at_half_relief_is_not_a_return() -> None:
    evaluation = evaluate_relief(10, diary((1, 1), (2, 1), (8, 5)), POLICY)
    assert evaluation.result is ReliefResult.PROLONGED
    evaluation = evaluate_relief(10, diary((1, 1), (2, 1), (8, 6)), POLICY)
    assert evaluation.result is ReliefResult.POSITIVE


def test_relief_exactly_at_the_threshold_counts() -> None:
    assert evaluate_relief(10, diary((1, 2), (2, 2), (8, 9)), policy_at(0.8)).result is ReliefResult.POSITIVE
    assert evaluate_relief(5, diary((1, 1), (2, 1), (8, 5)), policy_at(0.8)).result is ReliefResult.POSITIVE
    assert evaluate_relief(4, diary((1, 2), (2, 2), (8, 4)), policy_at(0.5)).result is ReliefResult.POSITIVE


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
    entries = diary((1, pain_at_relief), (2, pain_at_relief), (8, 8))
    for threshold in THRESHOLDS:
        assert evaluate_relief(8, entries, policy_at(threshold)).result is expected[threshold], threshold


def test_config_for_threshold_reaches_evaluation() -> None:
    entries = diary((1, 4), (2, 4), (8, 8))
    assert evaluate_relief(8, entries, config_for("clinical", 0.5).relief).result is ReliefResult.POSITIVE
    assert evaluate_relief(8, entries, config_for("clinical").relief).result is ReliefResult.NEGATIVE


def test_indeterminate_with_fewer_than_three_reports() -> None:
    evaluation = evaluate_relief(8, diary((1, 0), (2, 0)), POLICY)
    assert evaluation.result is ReliefResult.INDETERMINATE
    assert evaluation.peak_relief_pct == 100
    assert "2 reports" in evaluation.reason


def test_indeterminate_with_low_baseline() -> None:
    evaluation = evaluate_relief(2, diary((1, 0), (2, 0), (8, 2)), POLICY)
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


def test_reports_are_sorted_by_time_not_arrival() -> None:
    late_first = diary((8, 7), (2, 1), (1, 1))
    assert evaluate_relief(8, late_first, POLICY).result is ReliefResult.POSITIVE


def test_relief_fraction() -> None:
    assert relief_fraction(8, 2) == 0.75
    assert relief_fraction(10, 0) == 1.0
    assert relief_fraction(4, 6) == -0.5


def test_demo_policy_judges_compressed_diary_alike() -> None:
    # One clinical hour is five demo seconds: the positive window is 30 seconds.
    entries = [DiaryEntry(after_block=timedelta(seconds=s), pain=p) for s, p in ((5, 1), (10, 1), (40, 7))]
    assert evaluate_relief(8, entries, DEMO.relief).result is ReliefResult.POSITIVE
    late = [DiaryEntry(after_block=timedelta(seconds=s), pain=p) for s, p in ((5, 7), (35, 1), (40, 1))]
    assert evaluate_relief(8, late, DEMO.relief).result is ReliefResult.NEGATIVE


# --- properties --------------------------------------------------------------------------------------------


@given(baseline=baseline_st, entries=entries_st(), threshold=threshold_st)
def test_matches_reference_rule(baseline: int, entries: list[DiaryEntry], threshold: ReliefThreshold) -> None:
    policy = policy_at(threshold)
    assert evaluate_relief(baseline, entries, policy).result is reference(baseline, entries, policy)


@given(data=st.data(), baseline=st.integers(min_value=1, max_value=10), threshold=threshold_st)
def test_never_reaching_threshold_is_never_positive_nor_prolonged(
    data: st.DataObject, baseline: int, threshold: ReliefThreshold
) -> None:
    below = st.integers(0, 10).filter(lambda p: relief_fraction(baseline, p) < threshold)
    entries = data.draw(entries_st(pains=below))
    assert evaluate_relief(baseline, entries, policy_at(threshold)).result not in REACHED


@given(baseline=baseline_st, entries=entries_st())
def test_raising_the_threshold_never_turns_negative_into_positive(
    baseline: int, entries: list[DiaryEntry]
) -> None:
    results = [evaluate_relief(baseline, entries, policy_at(t)).result for t in THRESHOLDS]
    for lower, higher in pairwise(results):
        if lower is ReliefResult.NEGATIVE:
            assert higher is ReliefResult.NEGATIVE
        if higher is ReliefResult.POSITIVE:
            assert lower is ReliefResult.POSITIVE
        if higher in REACHED:
            assert lower in REACHED
        assert (lower is ReliefResult.INDETERMINATE) == (higher is ReliefResult.INDETERMINATE)


@given(baseline=st.integers(min_value=0, max_value=2), entries=entries_st(), threshold=threshold_st)
def test_baseline_under_three_is_always_indeterminate(
    baseline: int, entries: list[DiaryEntry], threshold: ReliefThreshold
) -> None:
    assert evaluate_relief(baseline, entries, policy_at(threshold)).result is ReliefResult.INDETERMINATE


@given(
    baseline=baseline_st,
    entries=st.lists(offsets_st, max_size=2, unique=True).flatmap(
        lambda offsets: st.tuples(*(pain_st for _ in offsets)).map(
            lambda pains: [DiaryEntry(after_block=o, pain=p) for o, p in zip(offsets, pains, strict=True)]
        )
    ),
    threshold=threshold_st,
)
def test_fewer_than_three_reports_is_indeterminate(
    baseline: int, entries: list[DiaryEntry], threshold: ReliefThreshold
) -> None:
    assert evaluate_relief(baseline, entries, policy_at(threshold)).result is ReliefResult.INDETERMINATE


@given(baseline=baseline_st, entries=entries_st(), threshold=threshold_st, data=st.data())
def test_result_does_not_depend_on_report_order(
    baseline: int, entries: list[DiaryEntry], threshold: ReliefThreshold, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(entries))
    policy = policy_at(threshold)
    assert evaluate_relief(baseline, shuffled, policy) == evaluate_relief(baseline, entries, policy)


@given(baseline=baseline_st, entries=entries_st(), threshold=threshold_st)
def test_peak_relief_is_a_percentage(
    baseline: int, entries: list[DiaryEntry], threshold: ReliefThreshold
) -> None:
    peak = evaluate_relief(baseline, entries, policy_at(threshold)).peak_relief_pct
    if not entries or baseline == 0:
        assert peak is None
    else:
        assert peak is not None
        assert 0 <= peak <= 100
        best = max(relief_fraction(baseline, e.pain) for e in entries)
        assert abs(peak - max(0.0, 100 * best)) <= 0.5


@given(
    baseline=st.integers(min_value=3, max_value=10), entries=entries_st(min_size=3), threshold=threshold_st
)
def test_reached_results_have_peak_at_threshold(
    baseline: int, entries: list[DiaryEntry], threshold: ReliefThreshold
) -> None:
    evaluation = evaluate_relief(baseline, entries, policy_at(threshold))
    assert evaluation.result is not ReliefResult.INDETERMINATE
    if evaluation.result in REACHED:
        assert evaluation.peak_relief_pct is not None
        assert evaluation.peak_relief_pct >= round(100 * threshold)


@given(baseline=baseline_st, entries=entries_st(), threshold=threshold_st)
def test_compressing_time_does_not_change_the_result(
    baseline: int, entries: list[DiaryEntry], threshold: ReliefThreshold
) -> None:
    demo_policy = DEMO.relief.model_copy(update={"threshold": threshold})
    compressed = [DiaryEntry(after_block=e.after_block / DEMO_FACTOR, pain=e.pain) for e in entries]
    assert (
        evaluate_relief(baseline, compressed, demo_policy).result
        is evaluate_relief(baseline, entries, policy_at(threshold)).result
    )


def test_reports_at_the_same_moment_depend_on_arrival_order() -> None:
    """Documents current behaviour: two reports with the same time are kept in arrival order (stable sort),
    so the result can depend on which arrived first. The property tests above use unique times."""
    relief_then_pain = diary((1, 0), (2, 0), (2, 9))
    pain_then_relief = diary((1, 0), (2, 9), (2, 0))
    assert evaluate_relief(10, relief_then_pain, POLICY).result is ReliefResult.POSITIVE
    assert evaluate_relief(10, pain_then_relief, POLICY).result is ReliefResult.NEGATIVE


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
    # Every prompt within the positive window can feed the evaluation's first-6-hours rule.
    assert any(at - performed_at == policy.positive_window for at in schedule)
