"""The pathway-cost benchmark counts what the server holds: a typical pathway's histories, fetched here on
their own, give the same events, workflow tasks and bytes, and the minimal shape does the same work."""

from collections.abc import AsyncIterator

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History as HistoryProto
from temporalio.api.history.v1 import HistoryEvent
from temporalio.testing import WorkflowEnvironment

from bench.figures import Report
from bench.pathway_cost import (
    LOCAL_ACTIVITY_MARKER,
    SUMMARIES,
    add_rows,
    feature_bytes,
    measure_on,
    stored_size,
    time_skipping_server,
)
from bench.pathway_shapes import typical
from domain.identifiers import outcome_check_ins_id, relief_check_id
from tests.workflows.pathway_driver import runs_of


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await time_skipping_server()
    yield environment
    await environment.shutdown()


def _count(executions: list[list[HistoryEvent]], event_type: int) -> int:
    return sum(e.event_type == event_type for events in executions for e in events)


def _local_activities(executions: list[list[HistoryEvent]]) -> int:
    return sum(
        e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
        for events in executions
        for e in events
    )


async def test_the_counts_reported_are_those_of_the_fetched_histories(env: WorkflowEnvironment) -> None:
    measured = await measure_on(env, typical)
    pathway_id = measured.full.executions[0].workflow_id

    executions = await runs_of(env.client, pathway_id)
    executions += await runs_of(env.client, relief_check_id(pathway_id, 1))
    executions += await runs_of(env.client, outcome_check_ins_id(pathway_id))
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

    # The bytes by feature account for every byte, on both sides.
    assert sum(measured.full.by_feature.values()) == measured.full.bytes
    assert sum(measured.minimal.by_feature.values()) == measured.minimal.bytes
    assert measured.minimal.by_feature["Updates"] == measured.minimal.by_feature[SUMMARIES] == 0

    report = Report("pathway_cost", "Pathway cost")
    add_rows(report, "typical", [measured])
    rows = {row.name: row for row in report.rows}
    assert rows["typical: workflow tasks"].spread.median == measured.full.tasks
    ratio = rows["typical: tasks full / minimal"]
    assert ratio.spread.median == measured.full.tasks / measured.minimal.tasks and ratio.met is not None


def test_an_events_ui_summary_counts_apart_from_the_feature_it_serves() -> None:
    accepted = HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    accepted.workflow_execution_update_accepted_event_attributes.protocol_instance_id = "update-1"
    assert feature_bytes(accepted) == {"Updates": stored_size(accepted), SUMMARIES: 0}

    timer = HistoryEvent(event_type=EventType.EVENT_TYPE_TIMER_STARTED)
    timer.timer_started_event_attributes.timer_id = "1"
    timer.user_metadata.summary.data = b"6 weeks check-in"
    summary = timer.user_metadata.ByteSize()
    assert summary > 0
    assert feature_bytes(timer) == {SUMMARIES: summary, "the rest": stored_size(timer) - summary}
    assert stored_size(timer) > timer.ByteSize()  # framed by its field tag and length
