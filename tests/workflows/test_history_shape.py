"""A pathway's history stays small: merged search-attribute upserts, small Update answers and result."""

import json
from collections.abc import Awaitable, Callable, Sequence

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from bench.pathway_shapes import longest
from bench.query_tasks import without_query_tasks
from domain.check_ins import CheckInStatus
from domain.config import CLINICAL
from tests.workflows.fakes import FakeClinic
from tests.workflows.pathway_driver import PathwayDriver
from workflows.outcome_check_ins import RUN_EVENTS

Start = Callable[..., Awaitable[PathwayDriver]]
SMALL = 200  # bytes: an Update's answer or the result, never the view
BOUNDED = 300  # events of any one workflow execution, the year of outcome check-ins included


async def test_a_whole_pathway_writes_small_answers_and_only_changed_search_attributes(
    start: Start, clinic: FakeClinic
) -> None:
    pathway = await start()
    await pathway.to_follow_up()
    await pathway.follow_up(pain=1)
    await pathway.result()
    events = (await pathway.handle.fetch_history()).events

    started = events[0].workflow_execution_started_event_attributes.search_attributes.indexed_fields
    known = {name: json.loads(payload.data) for name, payload in started.items()}
    upserts = [e for e in events if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES]
    tasks = [e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED]
    for event in upserts:
        fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        values = {
            name: json.loads(payload.data) if payload.data else None for name, payload in fields.items()
        }
        assert any(known.get(name) != value for name, value in values.items()), (
            f"an upsert changed nothing: {values}"
        )
        known.update(values)
    task_ids = {e.event_id for e in tasks}
    per_task = [max(t for t in task_ids if t < e.event_id) for e in upserts]
    assert len(per_task) == len(set(per_task)), "two upserts in one workflow task"

    answers = [
        e.workflow_execution_update_completed_event_attributes.outcome.success.payloads[0].data
        for e in events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED
    ]
    assert len(answers) == 6 and all(len(a) < SMALL for a in answers)
    completed = events[-1].workflow_execution_completed_event_attributes.result.payloads[0].data
    assert len(completed) < SMALL

    # Every outcome check-in went unanswered (the most each one writes: reminder, staff call, not obtained),
    # yet no execution grows past the bound: the check-ins keep their own history.
    final = await pathway.view()
    assert [o.status for o in final.outcomes] == [CheckInStatus.NOT_OBTAINED] * 5
    relief = await pathway.relief_check().fetch_history()
    outcomes = await pathway.outcome_runs()
    _hands_on_only_when_long(outcomes)
    sizes = _own_sizes([events, relief.events, *outcomes])
    assert max(sizes) <= BOUNDED, f"events per execution (pathway, relief check, outcomes' runs): {sizes}"


def _hands_on_only_when_long(runs: list[list[HistoryEvent]]) -> None:
    """The outcome check-ins start a new run only once a run's history is long, not after each check-in."""
    assert len(runs) < 5, f"a run per check-in: {[len(run) for run in runs]}"
    assert all(len(run) > RUN_EVENTS for run in runs[:-1]), [len(run) for run in runs]


async def test_a_long_pathway_keeps_every_execution_bounded(start: Start, clinic: FakeClinic) -> None:
    """Comparative blocks with both diaries run to their end, then the follow-up and every outcome check-in
    unanswered, each with a call that did not reach the patient: still no execution past the bound."""
    comparative = CLINICAL.model_copy(update={"comparative_blocks": True})
    pathway = await start(config=comparative)
    late, final = await longest(pathway)
    assert late.stage.value == "follow_up" and final.follow_up.status == CheckInStatus.NOT_OBTAINED
    assert [o.status for o in final.outcomes] == [CheckInStatus.NOT_OBTAINED] * 5
    assert [len(o.staff_calls) for o in final.outcomes] == [1] * 5  # carried from run to run
    assert final.outcome_reason == "DVR performed; 0 of 6 check-ins answered"
    histories = [(await pathway.handle.fetch_history()).events]
    for number in (1, 2):
        histories.append((await pathway.relief_check(number).fetch_history()).events)
    outcomes = await pathway.outcome_runs()
    _hands_on_only_when_long(outcomes)
    assert len(outcomes) > 1  # a year of long check-ins does not fit one run
    sizes = _own_sizes([*histories, *outcomes])
    assert max(sizes) <= BOUNDED, f"events per execution (pathway, relief checks, outcomes): {sizes}"


def _own_sizes(histories: Sequence[Sequence[HistoryEvent]]) -> list[int]:
    """Each execution's events, less the workflow tasks that only carried one of the test's reads (the
    driver reads by query while it waits: bench/query_tasks.py)."""
    return [len(without_query_tasks(events).events) for events in histories]
