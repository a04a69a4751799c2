"""What a workflow's histories cost, read from the server: each execution's events, workflow tasks and bytes
(less the tasks that only carried a read: bench/query_tasks.py), followed through its children and
continue-as-new runs (`whole_cost`), sorted by event type and by feature (bench/history_features.py), and
the activities, local activities and timers a minimal shape repeats (bench/minimal_shape.py).
bench/pathway_cost.py measures and reports with it."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History as HistoryProto
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from bench.history_features import Breakdown, breakdown, stored_size
from bench.query_tasks import LOCAL_ACTIVITY_MARKER, without_query_tasks
from tests.codec_keys import TEST_DATA_CONVERTER


@dataclass(frozen=True)
class Execution:
    workflow_type: str
    workflow_id: str
    run_id: str
    events: int
    tasks: int
    bytes: int
    before_outcomes: int | None = None
    """Events before this execution started the outcome check-ins (None: it started none)."""
    query_tasks: int = 0
    """Workflow tasks the time-skipping test server wrote for queries, left out (bench/query_tasks.py)."""


@dataclass
class Cost:
    """A whole pathway's history, or the minimal shape's: its executions, and the work they did."""

    executions: list[Execution] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    """The minimal shape's plan (bench/minimal_shape.py): the same activities, local activities and timers."""

    by_type: Counter[str] = field(default_factory=Counter)
    """History bytes by event type, over every execution."""

    by_feature: Breakdown = field(default_factory=Breakdown)
    """History bytes and workflow tasks by the feature they serve (bench/history_features.py)."""

    @property
    def events(self) -> int:
        return sum(e.events for e in self.executions)

    @property
    def max_events(self) -> int:
        return max(e.events for e in self.executions)

    @property
    def tasks(self) -> int:
        return sum(e.tasks for e in self.executions)

    @property
    def query_tasks(self) -> int:
        return sum(e.query_tasks for e in self.executions)

    @property
    def bytes(self) -> int:
        return sum(e.bytes for e in self.executions)

    def count(self, kind: str) -> int:
        return sum(step.startswith(kind) for step in self.plan)


async def _plain_size(payloads: Sequence[Payload]) -> int:
    """The JSON size of the first payload, decrypted (0 for none)."""
    if not payloads:
        return 0
    codec = TEST_DATA_CONVERTER.payload_codec
    decoded = await codec.decode(list(payloads)) if codec is not None else list(payloads)
    return len(decoded[0].data)


async def execution_cost(
    client: Client, workflow_id: str, run_id: str | None
) -> tuple[Execution, list[HistoryEvent]]:
    history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    written = without_query_tasks(history.events)
    events = written.events
    started = events[0].workflow_execution_started_event_attributes
    execution = Execution(
        workflow_type=started.workflow_type.name,
        workflow_id=workflow_id,
        run_id=run_id or started.original_execution_run_id,
        events=len(events),
        tasks=sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED for e in events),
        bytes=HistoryProto(events=events).ByteSize(),
        query_tasks=written.query_tasks,
        before_outcomes=next(
            (
                index
                for index, e in enumerate(events)
                if e.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
                and e.start_child_workflow_execution_initiated_event_attributes.workflow_type.name
                == "OutcomeCheckIns"
            ),
            None,
        ),
    )
    return execution, events


async def _steps(events: Sequence[HistoryEvent]) -> list[str]:
    """The activities, local activities and timers of one execution, in order, as minimal-shape steps."""
    results: dict[int, int] = {}
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            attributes = event.activity_task_completed_event_attributes
            results[attributes.scheduled_event_id] = await _plain_size(attributes.result.payloads)
    steps = []
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            argument = await _plain_size(event.activity_task_scheduled_event_attributes.input.payloads)
            steps.append(f"a{argument}/{results.get(event.event_id, 0)}")
        elif (
            event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
        ):
            details = event.marker_recorded_event_attributes.details
            result = details["result"].payloads if "result" in details else []
            steps.append(f"l2/{await _plain_size(result)}")  # a local activity's argument is not stored
        elif event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            timeout = event.timer_started_event_attributes.start_to_fire_timeout
            steps.append(f"t{max(timeout.ToTimedelta().total_seconds(), 1.0):g}")
    return steps


async def whole_cost(client: Client, workflow_id: str) -> Cost:
    """The pathway's execution and, recursively, each run of each child it started (continue-as-new
    followed to the last run)."""
    cost = Cost()
    pending: list[tuple[str, str | None]] = [(workflow_id, None)]
    while pending:
        child_id, run_id = pending.pop(0)
        execution, events = await execution_cost(client, child_id, run_id)
        cost.executions.append(execution)
        for event in events:
            cost.by_type[EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")] += stored_size(event)
        cost.by_feature.add(breakdown(events))
        cost.plan += await _steps(events)
        for event in events:
            if event.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
                started = event.child_workflow_execution_started_event_attributes.workflow_execution
                pending.append((started.workflow_id, started.run_id))
        last = events[-1]
        if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            pending.append(
                (child_id, last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id)
            )
    return cost
