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
TASK = (
    E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    E.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
)


def _history(*types: int) -> list[HistoryEvent]:
    return [HistoryEvent(event_id=n, event_type=t) for n, t in enumerate(types, start=1)]  # type: ignore[arg-type]


EVENTS = _history(
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
    assert task_causes(EVENTS) == [CHILDREN, REST, UPDATES, SIGNALS, REST, REST]


def test_every_byte_and_task_is_counted_once() -> None:
    EVENTS[4].user_metadata.summary.data = b"6 weeks check-in"  # the timer's summary in the Temporal UI
    found = breakdown(EVENTS)
    assert sum(found.bytes.values()) == History(events=EVENTS).ByteSize()
    assert found.tasks == {CHILDREN: 1, REST: 3, UPDATES: 1, SIGNALS: 1}
    assert found.bytes[SUMMARIES] == summary_size(EVENTS[4]) > len(b"6 weeks check-in")
    assert summary_size(EVENTS[5]) == 0
    update_task = sum(stored_size(e) for e in EVENTS[9:12])
    updates = sum(stored_size(e) for e in EVENTS[12:14])
    assert found.bytes[UPDATES] == update_task + updates
