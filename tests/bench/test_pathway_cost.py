"""The pathway-cost benchmark counts what the server holds: a typical pathway's histories, fetched here on
their own and less the tasks that only carried a read (bench/query_tasks.py), give the same events, workflow
tasks and bytes, and the minimal shape does the same work."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History as HistoryProto
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from bench.figures import Report
from bench.history_features import SUMMARIES, UPDATES
from bench.pathway_cost import add_rows, measure_on, time_skipping_server
from bench.pathway_shapes import typical
from bench.query_tasks import LOCAL_ACTIVITY_MARKER, without_query_tasks
from domain.identifiers import outcome_check_ins_id, relief_check_id
from tests.workflows.pathway_driver import runs_of


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await time_skipping_server()
    yield environment
    await environment.shutdown()


def _counting_queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every query the driver makes, by name."""
    made: list[str] = []
    query = WorkflowHandle.query

    async def counted(self: WorkflowHandle[Any, Any], name: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(str(name))
        return await query(self, name, *args, **kwargs)

    monkeypatch.setattr(WorkflowHandle, "query", counted)
    return made


def _count(executions: list[list[HistoryEvent]], event_type: int) -> int:
    return sum(e.event_type == event_type for events in executions for e in events)


def _local_activities(executions: list[list[HistoryEvent]]) -> int:
    return sum(
        e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
        for events in executions
        for e in events
    )


async def test_the_counts_reported_are_those_of_the_fetched_histories(
    env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = _counting_queries(monkeypatch)
    measured = await measure_on(env, typical)
    pathway_id = measured.full.executions[0].workflow_id

    fetched = await runs_of(env.client, pathway_id)
    fetched += await runs_of(env.client, relief_check_id(pathway_id, 1))
    fetched += await runs_of(env.client, outcome_check_ins_id(pathway_id))
    # Less the workflow tasks that only carried one of the driver's reads: at most one a query.
    written = [without_query_tasks(events) for events in fetched]
    executions = [w.events for w in written]
    left_out = sum(w.query_tasks for w in written)
    assert 0 < measured.full.query_tasks == left_out <= len(queries)
    assert sum(map(len, fetched)) == sum(map(len, executions)) + 3 * left_out
    # the pathway, its relief check, and a typical year of outcome check-ins in one run
    assert len(executions) == len(measured.full.executions) == 1 + 1 + 1
    assert measured.full.events == sum(len(events) for events in executions)
    assert measured.full.max_events == max(len(events) for events in executions)
    assert measured.full.tasks == _count(executions, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    assert measured.full.bytes == sum(len(HistoryProto(events=e).SerializeToString()) for e in executions)

    minimal_id = measured.minimal.executions[0].workflow_id
    minimal = [list((await env.client.get_workflow_handle(minimal_id).fetch_history()).events)]
    for kind in (EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, EventType.EVENT_TYPE_TIMER_STARTED):
        assert _count(minimal, kind) == _count(executions, kind) > 0
    # Its local activities, one marker each; a patch's marker (workflow.patched) is no work to repeat.
    assert _local_activities(minimal) == _local_activities(executions) > 0
    assert _count(executions, EventType.EVENT_TYPE_MARKER_RECORDED) > _local_activities(executions)
    assert measured.minimal.tasks == _count(minimal, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    assert not any(
        e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED for e in minimal[0]
    )

    # The breakdown by feature accounts for every byte and every workflow task, on both sides.
    for cost in (measured.full, measured.minimal):
        assert sum(cost.by_feature.bytes.values()) == cost.bytes
        assert sum(cost.by_feature.tasks.values()) == cost.tasks
    assert measured.minimal.by_feature.bytes[UPDATES] == measured.minimal.by_feature.bytes[SUMMARIES] == 0
    assert measured.full.by_feature.tasks[UPDATES] > 0 and measured.full.by_feature.bytes[SUMMARIES] > 0

    report = Report("pathway_cost", "Pathway cost")
    add_rows(report, "typical", [measured])
    rows = {row.name: row for row in report.rows}
    assert rows["typical: workflow tasks"].spread.median == measured.full.tasks
    ratio = rows["typical: tasks full / minimal"]
    assert ratio.spread.median == measured.full.tasks / measured.minimal.tasks and ratio.met is not None
