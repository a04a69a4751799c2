"""When check-ins go out and how an unanswered one runs its chain."""

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.check_ins import ChainStep, CheckInTimes, chain_steps
from domain.config import CLINICAL, DEMO
from domain.quiet_hours import QuietHours
from domain.reminders import outcome_schedule

OPENED = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)


def test_an_unanswered_check_in_is_reminded_then_called_then_given_up_in_that_order() -> None:
    steps = chain_steps(OPENED, CLINICAL.outcome_check_in)
    assert steps == [
        (OPENED + timedelta(days=2), ChainStep.REMIND),
        (OPENED + timedelta(days=4), ChainStep.CALL_STAFF),
        (OPENED + timedelta(days=10), ChainStep.GIVE_UP),
    ]


@given(
    reminder=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5)),
    window=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5)),
    deadline=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5)),
)
def test_a_chain_out_of_order_is_refused(reminder: timedelta, window: timedelta, deadline: timedelta) -> None:
    in_order = timedelta(0) < reminder < window < deadline
    try:
        CheckInTimes(reminder_after=reminder, answer_window=window, final_deadline=deadline)
    except ValidationError:
        assert not in_order
    else:
        assert in_order


def test_outcome_check_ins_fall_on_their_day_after_the_procedure_at_the_local_follow_up_hour() -> None:
    # A procedure late on 1 March in Phoenix (already 2 March in UTC); New York crosses a DST change.
    done = datetime(2026, 3, 2, 5, 30, tzinfo=UTC)
    for zone, day in (("America/Phoenix", 1), ("America/New_York", 2)):
        schedule = outcome_schedule(done, done, zone, CLINICAL)
        assert [name for name, _ in schedule] == ["2_weeks", "6_weeks", "3_months", "6_months", "12_months"]
        local = [at.astimezone(ZoneInfo(zone)) for _, at in schedule]
        first_day = datetime(2026, 3, day).date()
        assert [(at.date() - first_day).days for at in local] == [14, 42, 91, 182, 365]
        assert all(at.hour == CLINICAL.follow_up_local_hour and at.minute == 0 for at in local)


def test_outcome_check_ins_keep_out_of_quiet_hours() -> None:
    early = CLINICAL.model_copy(
        update={"follow_up_local_hour": 6, "quiet_hours": QuietHours(start_hour=21, end_hour=8)}
    )
    done = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    local = [
        at.astimezone(ZoneInfo("America/Phoenix"))
        for _, at in outcome_schedule(done, done, "America/Phoenix", early)
    ]
    assert all((at.hour, at.minute) == (8, 0) for at in local)


def test_the_demo_runs_the_outcome_check_ins_within_a_minute_each_closing_before_the_next() -> None:
    start = OPENED
    schedule = outcome_schedule(start, start, "America/Phoenix", DEMO)
    times = DEMO.outcome_check_in
    for (_, at), (_, following) in itertools.pairwise(schedule):
        assert at + times.final_deadline < following
    assert schedule[-1][1] + times.final_deadline <= start + timedelta(minutes=1)


def test_a_clinical_check_in_closes_before_the_next_opens() -> None:
    offsets = [after for _, after in CLINICAL.outcome_check_ins]
    gaps = [later - earlier for earlier, later in itertools.pairwise(offsets)]
    assert CLINICAL.outcome_check_in.final_deadline < min(gaps)
