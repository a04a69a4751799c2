"""Where a history's bytes and workflow tasks go, by the feature they serve.

The minimal shape (bench/minimal_shape.py) does the pathway's activities, local activities and timers and
nothing else. So a pathway's events sort into what serves its Updates, its signals, its children and runs
(continue-as-new), its search attributes, the summaries the Temporal UI shows (each event's user metadata:
timers, activities, local activities, each workflow's summary and details), and the rest: the shared work.
A workflow task's own events (scheduled, started, completed) count under what woke it (task_causes): an
activity or a timer (the rest), a signal, a child's start or end or a run's start, or, with none of those,
an Update it accepted. A task woken by an activity or timer and something else at once, or by nothing the
history shows, counts as the rest: the breakdown never flatters the shared work.
"""

import bisect
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History as HistoryProto
from temporalio.api.history.v1 import HistoryEvent

UPDATES, SIGNALS, CHILDREN, SEARCH_ATTRIBUTES = "Updates", "signals", "children and runs", "search attributes"
SUMMARIES = "UI summaries"
REST = "the rest"
FEATURES = (UPDATES, SIGNALS, CHILDREN, SEARCH_ATTRIBUTES)

_E = EventType
_FEATURE_OF: dict[int, str] = {
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: UPDATES,
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: UPDATES,
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: SIGNALS,
    _E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: SIGNALS,
    _E.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED: SIGNALS,
    _E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: SIGNALS,
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: CHILDREN,
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: CHILDREN,
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: CHILDREN,
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: CHILDREN,
    _E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: CHILDREN,
    _E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED: CHILDREN,
    _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: CHILDREN,
    _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED: CHILDREN,
    _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED: CHILDREN,
    _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED: CHILDREN,
    _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED: CHILDREN,
    _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT: CHILDREN,
    _E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: SEARCH_ATTRIBUTES,
}
_TASK_EVENTS = {
    _E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    _E.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    _E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    _E.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    _E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
}
_SHARED_WAKERS = {
    _E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    _E.EVENT_TYPE_ACTIVITY_TASK_FAILED,
    _E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
    _E.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
    _E.EVENT_TYPE_TIMER_FIRED,
}
_FEATURE_WAKERS = {
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    _E.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
    _E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
    _E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED,
    _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
    _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
    _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
    _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
    _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
    _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
}


@dataclass
class Breakdown:
    bytes: Counter[str] = field(default_factory=Counter)
    tasks: Counter[str] = field(default_factory=Counter)

    def add(self, other: "Breakdown") -> None:
        self.bytes.update(other.bytes)
        self.tasks.update(other.tasks)


def stored_size(event: HistoryEvent) -> int:
    """An event's bytes in its history, with the field tag and length that frame it there."""
    return HistoryProto(events=[event]).ByteSize()


def summary_size(event: HistoryEvent) -> int:
    """The bytes of the event's user metadata (the Temporal UI's summary and details), framing included."""
    if not event.HasField("user_metadata"):
        return 0
    without = HistoryEvent()
    without.CopyFrom(event)
    without.ClearField("user_metadata")
    return stored_size(event) - stored_size(without)


def task_causes(events: Sequence[HistoryEvent]) -> list[str]:
    """What woke each workflow task of one execution, one per task started, in order (see the module's
    docstring). A task is woken by what reached the history since the task before it started: the server
    writes what arrives while a task runs after that task, and what arrives before a task starts is
    delivered to it. A task that repeats one that failed or timed out once started shares its cause."""
    windows: list[list[int]] = [[]]  # event types before each task started, and after the last
    repeats: list[bool] = []  # whether each task repeats a started one that failed
    failed = False
    for event in events:
        if event.event_type == _E.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            windows.append([])
            repeats.append(failed)
            failed = False
        elif event.event_type == _E.EVENT_TYPE_WORKFLOW_TASK_FAILED or (
            event.event_type == _E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT
            and event.workflow_task_timed_out_event_attributes.started_event_id
        ):
            failed = True
        elif event.event_type not in _TASK_EVENTS:
            windows[-1].append(event.event_type)
    # A task and the tries that repeat it are one: woken by what reached any of them, and what the last
    # one did (an Update it accepted is written after it completes).
    groups: list[list[int]] = []
    for task, repeat in enumerate(repeats):
        if repeat and groups:
            groups[-1].append(task)
        else:
            groups.append([task])
    causes: list[str] = []
    for group in groups:
        before = [t for task in group for t in windows[task]]
        after = windows[group[-1] + 1]
        causes += [_cause(before, after)] * len(group)
    return causes


def _cause(before: list[int], after: list[int]) -> str:
    if _SHARED_WAKERS & set(before):
        return REST
    if woke := [_FEATURE_OF[t] for t in before if t in _FEATURE_WAKERS]:
        return woke[0]
    if _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED in after:
        return UPDATES
    return REST  # no event says what woke it: counted against the shared work


def _task_of_each_event(events: Sequence[HistoryEvent]) -> list[int | None]:
    """For each workflow-task event, the index of the task started it belongs to (a task scheduled counts
    with the next one started; its end with the last one started); None for every other event."""
    started = [i for i, e in enumerate(events) if e.event_type == _E.EVENT_TYPE_WORKFLOW_TASK_STARTED]
    owners: list[int | None] = []
    for i, event in enumerate(events):
        if event.event_type not in _TASK_EVENTS:
            owners.append(None)
            continue
        before = bisect.bisect_right(started, i) - 1  # the last task started at or before it
        ends_a_started_task = event.event_type != _E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED and not (
            event.event_type == _E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT
            and not event.workflow_task_timed_out_event_attributes.started_event_id
        )
        if ends_a_started_task and before >= 0:
            owners.append(before)
        else:  # scheduled, or timed out before it started: the next task started
            owners.append(min(before + 1, len(started) - 1) if started else None)
    return owners


def breakdown(events: Sequence[HistoryEvent]) -> Breakdown:
    """One execution's bytes and workflow tasks by feature, UI summaries apart."""
    found = Breakdown()
    causes = task_causes(events)
    for event, task in zip(events, _task_of_each_event(events), strict=True):
        if event.event_type in _TASK_EVENTS:
            cause = causes[task] if task is not None else REST
            found.bytes[cause] += stored_size(event)
            found.tasks[cause] += event.event_type == _E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
            continue
        summary = summary_size(event)
        found.bytes[SUMMARIES] += summary
        found.bytes[_FEATURE_OF.get(event.event_type, REST)] += stored_size(event) - summary
    return found
