"""The pathway-cost benchmark counts what the server holds: a typical pathway's histories, fetched here on
their own, give the same events, workflow tasks and bytes, and the minimal shape does the same work."""

from collections.abc import AsyncIterator

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History as HistoryProto
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from bench.figures import Report
from bench.pathway_cost import add_rows, measure_on, time_skipping_server
from bench.pathway_shapes import typical
from domain.identifiers import outcome_check_ins_id, relief_check_id


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await time_skipping_server()
    yield environment
    await environment.shutdown()


async def _runs_back_from_the_last(client: Client, workflow_id: str) -> list[list[HistoryEvent]]:
    """Every run of a workflow, found from its latest run back through each run's predecessor."""
    runs: list[list[HistoryEvent]] = []
    run_id: str | None = None
    while True:
        events = list((await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()).events)
        runs.append(events)
        run_id = events[0].workflow_execution_started_event_attributes.continued_execution_run_id
        if not run_id:
            return runs


def _count(executions: list[list[HistoryEvent]], event_type: int) -> int:
    return sum(e.event_type == event_type for events in executions for e in events)


async def test_the_counts_reported_are_those_of_the_fetched_histories(env: WorkflowEnvironment) -> None:
    measured = await measure_on(env, typical)
    pathway_id = measured.full.executions[0].workflow_id

    executions = await _runs_back_from_the_last(env.client, pathway_id)
    executions += await _runs_back_from_the_last(env.client, relief_check_id(pathway_id, 1))
    executions += await _runs_back_from_the_last(env.client, outcome_check_ins_id(pathway_id))
    assert len(executions) == len(measured.full.executions) == 1 + 1 + 5  # a run per outcome check-in
    assert measured.full.events == sum(len(events) for events in executions)
    assert measured.full.max_events == max(len(events) for events in executions)
    assert measured.full.tasks == _count(executions, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    assert measured.full.bytes == sum(len(HistoryProto(events=e).SerializeToString()) for e in executions)

    minimal_id = measured.minimal.executions[0].workflow_id
    minimal = [list((await env.client.get_workflow_handle(minimal_id).fetch_history()).events)]
    for kind in (
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        EventType.EVENT_TYPE_TIMER_STARTED,
        EventType.EVENT_TYPE_MARKER_RECORDED,
    ):
        assert _count(minimal, kind) == _count(executions, kind) > 0
    assert measured.minimal.tasks == _count(minimal, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    assert not any(
        e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED for e in minimal[0]
    )

    report = Report("pathway_cost", "Pathway cost")
    add_rows(report, "typical", [measured])
    rows = {row.name: row for row in report.rows}
    assert rows["typical: workflow tasks"].spread.median == measured.full.tasks
    ratio = rows["typical: tasks full / minimal"]
    assert ratio.spread.median == measured.full.tasks / measured.minimal.tasks and ratio.met is not None
