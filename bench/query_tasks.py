"""The workflow tasks that only carried a read: left out of what a pathway's history is said to cost.

A query that reaches the server while one of the workflow's tasks is outstanding is delivered, once that task
completes, on a workflow task of its own: the worker answers the query and writes nothing, but the task's
three events (scheduled, started, completed) stay in the history. The time-skipping test server does this,
and so does the Temporal server. Such a task is the cost of reading a pathway at a busy moment, not of the
pathway's work, and the minimal shape it is compared with is never read; the workflow tests' driver reads the
view by query every few milliseconds while it waits for a step. So the pathway-cost benchmark leaves out each
task that nothing in the history caused and that wrote nothing, and reports how many it left out
(tests/bench/test_query_tasks.py, tests/bench/test_pathway_cost.py).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

# What makes the server schedule a workflow task: new input for the workflow, or a task to retry.
_CAUSES = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
        EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
        EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
        EventType.EVENT_TYPE_TIMER_FIRED,
        EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
        EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
        EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
    }
)
# What a workflow task's completion writes: the workflow's commands, and the Updates it took.
_WRITTEN = frozenset(
    {
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
        EventType.EVENT_TYPE_TIMER_STARTED,
        EventType.EVENT_TYPE_TIMER_CANCELED,
        EventType.EVENT_TYPE_MARKER_RECORDED,
        EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
        EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
        EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
        EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }
)
_TASK = (
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
)


@dataclass(frozen=True)
class Written:
    """One execution's history as the Temporal server would write it, and the query tasks left out."""

    events: list[HistoryEvent]
    query_tasks: int


def without_query_tasks(events: Sequence[HistoryEvent]) -> Written:
    """`events` less each workflow task that nothing caused and that wrote nothing."""
    kept: list[HistoryEvent] = []
    dropped = 0
    caused = False  # since the last completed workflow task
    index = 0
    while index < len(events):
        event = events[index]
        if _is_task(events, index) and not caused and not _writes(events, index + 3):
            dropped += 1
            index += 3
            continue
        if event.event_type in _CAUSES:
            caused = True
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            caused = False
        kept.append(event)
        index += 1
    return Written(kept, dropped)


def _is_task(events: Sequence[HistoryEvent], index: int) -> bool:
    window = events[index : index + 3]
    return tuple(e.event_type for e in window) == _TASK


def _writes(events: Sequence[HistoryEvent], index: int) -> bool:
    """Whether the workflow task completed just before `index` wrote anything."""
    return index < len(events) and events[index].event_type in _WRITTEN
