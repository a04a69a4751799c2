"""Comparative blocks: which block follows which, on which day, and the pair's concordance."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.comparative_blocks import (
    concordance,
    goes_on_to_second_block,
    relief_lasted,
    second_block_not_before,
)
from domain.config import ReliefPolicy
from domain.stages import ReliefResult
from domain.view import ReliefCheckView, ReportedPain

PHOENIX = "America/Phoenix"
WITH_RELIEF = [ReliefResult.POSITIVE, ReliefResult.PROLONGED]
WITHOUT_RELIEF = [ReliefResult.NEGATIVE, ReliefResult.INDETERMINATE]
POLICY = ReliefPolicy()  # threshold 80 %, the usual pain back under 50 %, last prompt +8 h
PERFORMED_AT = datetime(2025, 11, 24, 16, tzinfo=UTC)
BASELINE = 8  # pain 1: 87 % relief (a run); 2-4: 75-50 % (relief, under the threshold); 5 or more: pain back


def block(result: ReliefResult | None, *reports: tuple[float, int]) -> ReliefCheckView:
    """A block with baseline 8 and its diary as (hours after the block, pain)."""
    return ReliefCheckView(
        baseline_pain=BASELINE,
        performed_at=PERFORMED_AT,
        reports=[ReportedPain(at=PERFORMED_AT + timedelta(hours=h), pain=p) for h, p in reports],
        result=result,
    )


POSITIVE, PROLONGED = ReliefResult.POSITIVE, ReliefResult.PROLONGED
# The reviewer's pair. Lidocaine: a run from +15 min to +3 h, the usual pain back at +4 h (lasted 3 h 45).
LIDOCAINE_4H = block(POSITIVE, (0.25, 1), (1, 1), (3, 1), (4, 7))
# Bupivacaine: a run from +15 min to +1 h only, then 62 % relief through +8 h (lasted 7 h 45 at least).
BUPIVACAINE_PAST_8H = block(PROLONGED, (0.25, 1), (1, 1), (2, 3), (4, 3), (6, 3), (8, 3))
# Positive, a short run (45 min) but relief until the pain came back at +6 h (lasted 5 h 45).
SHORT_RUN_BACK_AT_6H = block(POSITIVE, (0.25, 1), (1, 1), (3, 3), (6, 7))
# Positive, a short run, relief until +5 h (lasted 4 h 45).
SHORT_RUN_BACK_AT_5H = block(POSITIVE, (0.25, 1), (1, 1), (2, 3), (5, 7))
# Positive, the pain back at +2 h (lasted 1 h 45).
BACK_AT_2H = block(POSITIVE, (0.25, 1), (1, 1), (2, 7))
# Positive, relief through the last prompt and the pain back at +10 h (lasted 9 h 45).
BACK_AT_10H = block(POSITIVE, (0.25, 1), (1, 1), (8, 3), (10, 7))
# Prolonged, the diary ending at +8 h (7 h 45 at least), and at +10 h (9 h 45 at least).
PROLONGED_TO_8H = block(PROLONGED, (0.25, 1), (1, 1), (8, 1))
PROLONGED_TO_10H = block(PROLONGED, (0.25, 1), (1, 1), (8, 3), (10, 3))
NO_RUN = block(ReliefResult.NEGATIVE, (0.25, 7), (0.5, 7), (1, 7))


def test_only_a_first_block_with_relief_goes_on_to_the_second() -> None:
    assert [goes_on_to_second_block(r) for r in ReliefResult] == [r in WITH_RELIEF for r in ReliefResult]


@pytest.mark.parametrize(
    ("check", "minutes"),
    [
        (LIDOCAINE_4H, 225),  # onset +15 min to the pain back at +4 h, not the run's 165 min
        (BUPIVACAINE_PAST_8H, 465),  # to the last diary report, not the run's 45 min
        (SHORT_RUN_BACK_AT_6H, 345),
        (BACK_AT_10H, 585),
        (PROLONGED_TO_10H, 585),
        (NO_RUN, None),
        # The diary stopped before the last prompt, the pain not back: indeterminate, not measured.
        (block(ReliefResult.INDETERMINATE, (0.25, 1), (1, 1), (3, 3)), None),
        (ReliefCheckView(result=POSITIVE), None),  # no diary on record
    ],
)
def test_how_long_relief_lasted(check: ReliefCheckView, minutes: int | None) -> None:
    lasted = relief_lasted(check, POLICY)
    assert lasted == (None if minutes is None else timedelta(minutes=minutes))


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        # The reviewer's example: bupivacaine relief past +8 h against lidocaine's ~4 h, though its run at
        # the threshold was shorter.
        (LIDOCAINE_4H, BUPIVACAINE_PAST_8H, "concordant"),
        # Both positive: the second's pain back later is concordant, whatever the runs' lengths ...
        (LIDOCAINE_4H, SHORT_RUN_BACK_AT_6H, "concordant"),
        (BACK_AT_2H, LIDOCAINE_4H, "concordant"),
        # ... sooner, or at the same time, discordant (here the second's run is the longer one).
        (SHORT_RUN_BACK_AT_5H, LIDOCAINE_4H, "discordant"),
        (LIDOCAINE_4H, BACK_AT_2H, "discordant"),
        (LIDOCAINE_4H, LIDOCAINE_4H, "discordant"),
        # A prolonged second after a positive first is concordant, even when the first's pain came back
        # after the second's diary ended.
        (BACK_AT_10H, PROLONGED_TO_8H, "concordant"),
        (BACK_AT_2H, PROLONGED_TO_8H, "concordant"),
        # Two prolonged blocks: how far each diary saw relief, as measured.
        (PROLONGED_TO_8H, PROLONGED_TO_10H, "concordant"),
        (PROLONGED_TO_10H, PROLONGED_TO_8H, "discordant"),
        (PROLONGED_TO_8H, PROLONGED_TO_8H, "discordant"),
        # A prolonged first: a positive second beats it only with the pain back after the first's diary.
        (PROLONGED_TO_8H, BACK_AT_10H, "concordant"),
        (PROLONGED_TO_8H, LIDOCAINE_4H, "discordant"),
        # The second without relief.
        (LIDOCAINE_4H, NO_RUN, "second_block_not_positive"),
        (PROLONGED_TO_8H, block(ReliefResult.INDETERMINATE, (0.25, 1)), "second_block_not_positive"),
    ],
)
def test_the_pairs_concordance(first: ReliefCheckView, second: ReliefCheckView, expected: str) -> None:
    assert concordance(first, second, POLICY) == expected


@dataclass(frozen=True)
class Diary:
    """A generated block with relief, and how long its relief lasted, known by construction."""

    check: ReliefCheckView
    lasted: timedelta


@st.composite
def diaries(draw: st.DrawFn, prolonged: bool) -> Diary:
    """A run of two reports at pain 0-1 starting within 2 h, some reports at pain 0-4 (relief 50 % or more),
    then either the usual pain back (5 or more; any reports after it) or a last report at or after +8 h with
    relief still 50 % or more. Times in minutes after the block, all before the +24 h return check."""
    onset = draw(st.integers(0, 120))
    run_end = onset + draw(st.integers(30, 240))
    reports = [(onset, draw(st.integers(0, 1))), (run_end, draw(st.integers(0, 1)))]
    for _ in range(draw(st.integers(0, 4))):
        reports.append((reports[-1][0] + draw(st.integers(1, 120)), draw(st.integers(0, 4))))
    if prolonged:
        end = max(8 * 60, reports[-1][0] + draw(st.integers(1, 240)))
        reports.append((end, draw(st.integers(0, 4))))
    else:
        end = reports[-1][0] + draw(st.integers(1, 240))
        reports.append((end, draw(st.integers(5, 10))))
        for _ in range(draw(st.integers(0, 3))):
            reports.append((reports[-1][0] + draw(st.integers(1, 60)), draw(st.integers(0, 10))))
    check = block(PROLONGED if prolonged else POSITIVE, *((m / 60, pain) for m, pain in reports))
    return Diary(check, timedelta(minutes=end - onset))


@given(diaries(prolonged=False) | diaries(prolonged=True))
def test_relief_lasted_from_onset_to_the_pain_back_or_the_diarys_end(generated: Diary) -> None:
    assert relief_lasted(generated.check, POLICY) == generated.lasted


@given(diaries(prolonged=False), diaries(prolonged=False))
def test_two_positive_blocks_swapped_flip_the_verdict_unless_they_lasted_as_long(a: Diary, b: Diary) -> None:
    forward, backward = concordance(a.check, b.check, POLICY), concordance(b.check, a.check, POLICY)
    if a.lasted == b.lasted:
        assert forward == backward == "discordant"
    else:
        assert {forward, backward} == {"concordant", "discordant"}
        assert (forward == "concordant") == (b.lasted > a.lasted)


@given(diaries(prolonged=False), diaries(prolonged=True))
def test_a_prolonged_second_after_a_positive_first_is_concordant(first: Diary, second: Diary) -> None:
    assert concordance(first.check, second.check, POLICY) == "concordant"


@given(diaries(prolonged=True), diaries(prolonged=True))
def test_two_prolonged_blocks_compare_how_far_each_diary_saw_relief(a: Diary, b: Diary) -> None:
    assert concordance(a.check, b.check, POLICY) == ("concordant" if b.lasted > a.lasted else "discordant")


@given(diaries(prolonged=False) | diaries(prolonged=True), st.sampled_from(WITHOUT_RELIEF))
def test_a_second_block_without_relief_is_not_positive_whatever_its_diary(
    first: Diary, second: ReliefResult
) -> None:
    for diary in (NO_RUN, LIDOCAINE_4H, BUPIVACAINE_PAST_8H):
        without = diary.model_copy(update={"result": second})
        assert concordance(first.check, without, POLICY) == "second_block_not_positive"


@given(st.sampled_from([None, *WITHOUT_RELIEF]), st.sampled_from([None, *ReliefResult]))
def test_no_pair_no_concordance(first: ReliefResult | None, second: ReliefResult | None) -> None:
    first_block = LIDOCAINE_4H.model_copy(update={"result": first})
    assert concordance(first_block, BUPIVACAINE_PAST_8H.model_copy(update={"result": second}), POLICY) is None


@given(st.sampled_from(WITH_RELIEF))
def test_no_concordance_until_the_second_block_is_evaluated(first: ReliefResult) -> None:
    second = BUPIVACAINE_PAST_8H.model_copy(update={"result": None})
    assert concordance(LIDOCAINE_4H.model_copy(update={"result": first}), second, POLICY) is None


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)))
def test_the_second_block_is_not_before_the_next_local_day(at: datetime) -> None:
    tz = ZoneInfo(PHOENIX)
    not_before = second_block_not_before(at, PHOENIX)
    local = not_before.astimezone(tz)
    assert (local.hour, local.minute, local.second) == (0, 0, 0)
    assert local.date() == at.astimezone(tz).date() + timedelta(days=1)
    assert timedelta(0) < not_before - at <= timedelta(days=1)


def test_a_block_late_in_the_local_evening_is_followed_from_the_next_local_midnight() -> None:
    late = datetime(2025, 11, 24, 23, 30, tzinfo=ZoneInfo(PHOENIX))  # 06:30 UTC the next day
    assert second_block_not_before(late, PHOENIX) == datetime(2025, 11, 25, tzinfo=ZoneInfo(PHOENIX))
