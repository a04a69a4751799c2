"""The pathway-cost benchmark's breakdown: each workflow task counts under what woke it, each event's bytes
under the feature it serves, the Temporal UI's summaries apart, and every byte and task somewhere."""

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History, HistoryEvent

from bench.history_features import (
    CHILDREN,
    REST,
    SIGNALS,
    SUMMARIES,
    UPDATES,
    breakdown,
    stored_size,
    summary_size,
    task_causes,
)

E = EventType
SCHEDULED, STARTED, COMPLETED = (
    E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    E.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
)
TASK = (SCHEDULED, STARTED, COMPLETED)


def _history(*types: int) -> list[HistoryEvent]:
    return [HistoryEvent(event_id=n, event_type=t) for n, t in enumerate(types, start=1)]  # type: ignore[arg-type]


def _events() -> list[HistoryEvent]:
    return _history(
        E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        *TASK,  # woken by the start
        E.EVENT_TYPE_TIMER_STARTED,
        E.EVENT_TYPE_TIMER_FIRED,
        *TASK,  # woken by the timer: shared work
        *TASK,  # nothing before it, an Update accepted in it
        E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        *TASK,  # woken by the signal
        E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        *TASK,  # a signal and an activity at once: shared work
        *TASK,  # nothing before or in it says why: shared work, never a feature
        E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    )


def test_each_task_counts_under_what_woke_it() -> None:
    assert task_causes(_events()) == [CHILDREN, REST, UPDATES, SIGNALS, REST, REST]


def test_every_byte_and_task_is_counted_once() -> None:
    events = _events()
    events[4].user_metadata.summary.data = b"6 weeks check-in"  # the timer's summary in the Temporal UI
    found = breakdown(events)
    assert sum(found.bytes.values()) == History(events=events).ByteSize()
    assert found.tasks == {CHILDREN: 1, REST: 3, UPDATES: 1, SIGNALS: 1}
    assert found.bytes[SUMMARIES] == summary_size(events[4]) > len(b"6 weeks check-in")
    assert summary_size(events[5]) == 0
    update_task = sum(stored_size(e) for e in events[9:12])
    updates = sum(stored_size(e) for e in events[12:14])
    assert found.bytes[UPDATES] == update_task + updates


def test_what_arrives_before_a_task_starts_woke_that_task_not_the_next() -> None:
    events = _history(
        E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        *TASK,
        SCHEDULED,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,  # while the task waits to start: delivered to it
        STARTED,
        COMPLETED,
        *TASK,  # nothing arrived since the last task started; it accepts an Update
        E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    )
    assert task_causes(events) == [CHILDREN, SIGNALS, UPDATES]


def test_a_task_tried_again_counts_under_what_woke_the_first_try() -> None:
    failed = E.EVENT_TYPE_WORKFLOW_TASK_FAILED
    events = _history(
        E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        *TASK,
        E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        SCHEDULED,
        STARTED,
        failed,  # its try failed (a worker crash, a bug): the next one repeats it
        *TASK,
        SCHEDULED,
        E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,  # timed out before it started (no worker polled)
        E.EVENT_TYPE_TIMER_FIRED,
        *TASK,
    )
    assert task_causes(events) == [CHILDREN, SIGNALS, SIGNALS, REST]
    found = breakdown(events)
    assert sum(found.bytes.values()) == History(events=events).ByteSize()
    assert found.tasks == {CHILDREN: 1, SIGNALS: 1, REST: 1}  # the failed try completed nothing


def test_a_retried_task_that_accepts_an_update_counts_under_updates() -> None:
    failed = E.EVENT_TYPE_WORKFLOW_TASK_FAILED
    events = _history(
        E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        *TASK,
        SCHEDULED,
        STARTED,
        failed,
        *TASK,  # the retry accepts the Update both tries were woken for
        E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        SCHEDULED,
        STARTED,
        failed,
        E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,  # reaches the retry: shared work as well
        *TASK,
    )
    assert task_causes(events) == [CHILDREN, UPDATES, UPDATES, REST, REST]
