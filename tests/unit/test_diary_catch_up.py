"""Which diary steps a relief check takes when it wakes late, and what it drops (domain.diary_catch_up)."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.config import CLINICAL, DEMO, ReliefPolicy
from domain.diary_catch_up import CatchUp, DiaryEvent, DiaryStep, catch_up, catch_up_by_time, diary_events

POLICY = CLINICAL.relief
BLOCK_AT = datetime(2025, 11, 25, 15, 30, tzinfo=UTC)
EVENTS = diary_events(BLOCK_AT, POLICY)
END = EVENTS[-1].at


def wake(started_after: timedelta, now_after: timedelta | None = None) -> CatchUp:
    """The catch-up of a check started `started_after` the block, waking at `now_after` (default: as it
    starts, with every step since the block due; later: with the steps since it started due)."""
    started = BLOCK_AT + started_after
    now = BLOCK_AT + (now_after if now_after is not None else started_after)
    since = started if now_after is not None else BLOCK_AT - timedelta(seconds=1)
    due = [e for e in EVENTS if since < e.at <= now and e.step != DiaryStep.END]
    return catch_up(due, now=now, started=started, missed_after=POLICY.missed_after, diary_closed=now >= END)


def steps(events: tuple[DiaryEvent, ...]) -> list[str]:
    return [f"{e.step.value}:{e.number}" for e in events]


def test_a_block_recorded_27_minutes_late_sends_prompt_1_without_its_nudge() -> None:
    late = wake(timedelta(minutes=27))
    assert steps(late.take) == ["prompt:1"]
    assert steps(late.missed) == ["nudge:1"]
    assert late.detail(BLOCK_AT + timedelta(minutes=27)) == (
        "1 nudge missed before the block was recorded; sent prompt 1"
    )


def test_a_block_recorded_a_minute_late_sends_its_prompt_and_drops_nothing() -> None:
    on_time = wake(timedelta(minutes=16))
    assert steps(on_time.take) == ["prompt:1"] and on_time.missed == ()
    assert on_time.detail(BLOCK_AT + timedelta(minutes=16)) is None


def test_waking_after_the_diary_closed_sends_no_prompt_and_says_what_was_missed() -> None:
    started = timedelta(hours=9)
    closed = wake(started, now_after=timedelta(hours=29))
    assert not any(e.step == DiaryStep.PROMPT for e in closed.take)
    assert steps(closed.missed) == ["prompt:10"]
    assert closed.detail(BLOCK_AT + started) == "1 diary prompt missed during an outage; the diary had closed"


def test_the_silence_check_is_kept_after_an_outage_even_once_the_diary_closed() -> None:
    closed = wake(timedelta(minutes=20), now_after=timedelta(hours=29))
    assert steps(closed.take) == ["silence_check:0"]


def test_the_return_check_is_sent_late_while_its_answer_window_is_open() -> None:
    late = wake(timedelta(hours=9), now_after=timedelta(hours=25))
    assert steps(late.take) == ["prompt:10"]


moments = st.integers(min_value=0, max_value=30 * 60 * 60).map(lambda s: timedelta(seconds=s))


@given(first=moments, second=moments, policy=st.sampled_from([CLINICAL.relief, DEMO.relief]))
def test_no_nudge_goes_with_its_prompt_and_no_prompt_after_the_close(
    first: timedelta, second: timedelta, policy: ReliefPolicy
) -> None:
    started, now = BLOCK_AT + min(first, second), BLOCK_AT + max(first, second)
    events = diary_events(BLOCK_AT, policy)
    end = events[-1]
    due = [e for e in events if e.at <= now and e.step != DiaryStep.END]
    closed = end.at <= now
    by_time = catch_up_by_time(
        due, now=now, started=started, missed_after=policy.missed_after, diary_closed=closed
    )
    chosen = catch_up(due, now=now, started=started, missed_after=policy.missed_after, diary_closed=closed)

    assert sorted(chosen.take + chosen.missed, key=due.index) == due  # each due step taken or dropped, once
    assert set(chosen.take) <= set(by_time.take)  # holding back only drops
    prompts = {e.number for e in chosen.take if e.step == DiaryStep.PROMPT}
    assert len(prompts) <= 1 or all(e.at >= now - policy.missed_after for e in chosen.take)
    assert not any(e.step == DiaryStep.NUDGE and e.number in prompts for e in chosen.take)
    if closed:
        assert prompts == set()
    elif any(e.step == DiaryStep.PROMPT for e in due):
        latest = max(e.number for e in due if e.step == DiaryStep.PROMPT)
        assert latest in prompts  # the current prompt goes out, late or not
    assert (chosen.detail(started) is None) == (chosen.missed == ())
