"""The workflow tasks that only carried a read: left out of what a pathway's history is said to cost.

The time-skipping test server (temporal-test-server) gives a query that reaches it while one of the
workflow's tasks is running a workflow task of its own once that one completes: the worker answers the query
on it and writes nothing, but the task's three events (scheduled, started, completed) stay in the history.
The Temporal server holds such a query and answers it without a task (tests/bench/test_query_tasks.py runs
both); the dev server wrote one only rarely. The workflow tests' driver reads the view by query every few
milliseconds while it waits for a step, and the minimal shape a pathway is compared with is never read; so
the pathway-cost benchmark, which runs on the test server to skip a year of timers, leaves such tasks out
and reports how many.

A task is left out when nothing in the history caused it (no new input since the task before it completed)
and it wrote nothing. A worker also asks for such a task itself, while a local activity runs past its task's
heartbeat: it completes the task with nothing and the server gives it another, until the one that records
the local activity's result. So a run of such tasks that ends in one recording a local activity's result,
with nothing causing any of them, is kept whole. When in doubt, an event type counts as a cause, so a task
is kept.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

LOCAL_ACTIVITY_MARKER = "core_local_activity"  # a patch's marker (workflow.patched) is not a step

# What makes the server schedule a workflow task: new input for the workflow, or a task to retry.
CAUSES = frozenset(
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
        EventType.EVENT_TYPE_NEXUS_OPERATION_STARTED,
        EventType.EVENT_TYPE_NEXUS_OPERATION_COMPLETED,
        EventType.EVENT_TYPE_NEXUS_OPERATION_FAILED,
        EventType.EVENT_TYPE_NEXUS_OPERATION_CANCELED,
        EventType.EVENT_TYPE_NEXUS_OPERATION_TIMED_OUT,
        EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUEST_COMPLETED,
        EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUEST_FAILED,
        # Changes from outside that may or may not wake the workflow: counted as causes, so a task is kept.
        EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED_EXTERNALLY,
        EventType.EVENT_TYPE_ACTIVITY_PROPERTIES_MODIFIED_EXTERNALLY,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_PAUSED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UNPAUSED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIME_SKIPPING_TRANSITIONED,
    }
)
# What a workflow task's completion writes: the workflow's commands, and the Updates it took.
WRITTEN = frozenset(
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
        EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED,
        EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED,
    }
)
_UPDATE_TAKEN = (
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED,
)
# Neither: an activity picked up, the end from outside, and the task's own events.
NEITHER = frozenset(
    {
        EventType.EVENT_TYPE_UNSPECIFIED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    }
)
TASK = (
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
)


@dataclass(frozen=True)
class Written:
    """One execution's history less the tasks that only carried a read, and how many were left out."""

    events: list[HistoryEvent]
    query_tasks: int


@dataclass(frozen=True)
class _Task:
    first: int  # the index of its scheduled event; the task is it and the two after it
    caused: bool
    wrote: bool
    recorded_local_activity: bool


def without_query_tasks(events: Sequence[HistoryEvent]) -> Written:
    """`events` less each workflow task that nothing caused and that wrote nothing, unless it is one of a
    local activity's heartbeats."""
    tasks = _tasks(events)
    left_out: set[int] = set()
    for index, task in enumerate(tasks):
        if not task.caused and not task.wrote and not _heartbeat(tasks, index):
            left_out.update(range(task.first, task.first + len(TASK)))
    kept = [event for index, event in enumerate(events) if index not in left_out]
    return Written(kept, len(left_out) // len(TASK))


def _tasks(events: Sequence[HistoryEvent]) -> list[_Task]:
    """Each workflow task whose three events follow one another, with whether new input came before it and
    what it wrote."""
    tasks: list[_Task] = []
    caused = False  # since the last task completed
    index = 0
    while index < len(events):
        event_type = events[index].event_type
        if tuple(e.event_type for e in events[index : index + len(TASK)]) == TASK:
            written = _written_after(events, index + len(TASK))
            recorded = any(
                e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
                and e.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
                for e in written
            )
            took_update = any(e.event_type in _UPDATE_TAKEN for e in written)  # an Update is its cause
            tasks.append(_Task(index, caused or took_update, bool(written), recorded))
            caused = False
            index += len(TASK)
            continue
        if event_type in CAUSES:
            caused = True
        elif event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            caused = False
        index += 1
    return tasks


def _written_after(events: Sequence[HistoryEvent], index: int) -> list[HistoryEvent]:
    """The events a workflow task's completion wrote: those from `index` on that a completion writes."""
    written = []
    while index < len(events) and events[index].event_type in WRITTEN:
        written.append(events[index])
        index += 1
    return written


def _heartbeat(tasks: Sequence[_Task], index: int) -> bool:
    """Whether the tasks from `index` on, nothing causing any of them, end in one that records a local
    activity's result: the worker asked for them while the local activity ran."""
    for task in tasks[index:]:
        if task.caused:
            return False
        if task.recorded_local_activity:
            return True
    return False
