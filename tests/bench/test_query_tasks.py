"""Which workflow tasks the pathway-cost benchmark leaves out (bench/query_tasks.py): the one the
time-skipping test server gives a query that came while a task ran, which the Temporal server (the dev
server) does not write; none of a workflow read while it waits; and, in a history, only a task that nothing
caused and that wrote nothing, never a local activity's heartbeats or a retried task."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.pathway_cost import time_skipping_server
from bench.query_tasks import CAUSES, LOCAL_ACTIVITY_MARKER, NEITHER, TASK, WRITTEN, without_query_tasks
from config.binaries import installed_binary
from tests.integration.processes import poll_until
from tests.workflows.eventually import WAIT_SECONDS

BUSY_SECONDS = 4.0
"""How long the in-flight test's local activity keeps the workflow's first task running: the query sent once
it started reaches the server well within it."""


@pytest.fixture(params=["time-skipping test server", "dev server"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[WorkflowEnvironment]:
    if request.param == "dev server":
        env = await WorkflowEnvironment.start_local(dev_server_existing_path=installed_binary("temporal"))
    else:
        env = await time_skipping_server()
    yield env
    await env.shutdown()


_note_started = asyncio.Event()


@activity.defn
async def _note(seconds: float) -> None:
    """The local activity of the workflow's first task: it takes `seconds` (the work that keeps the task
    running, not a wait for the test)."""
    _note_started.set()
    await asyncio.sleep(seconds)


@workflow.defn(sandboxed=False)
class _Waits:
    """A local activity, then a wait for a signal: the shape of a pathway's step."""

    def __init__(self) -> None:
        self._go = False

    @workflow.run
    async def run(self, note_seconds: float) -> None:
        await workflow.execute_local_activity(
            _note, note_seconds, start_to_close_timeout=timedelta(seconds=30)
        )
        await workflow.wait_condition(lambda: self._go)

    @workflow.query
    def view(self) -> bool:
        return self._go

    @workflow.signal
    def go(self) -> None:
        self._go = True


async def _history(env: WorkflowEnvironment, *, queries: int, while_busy: bool = False) -> list[HistoryEvent]:
    """The workflow run with `queries` reads (each answered before the next): while its first task runs a
    slow local activity, or once it waits."""
    _note_started.clear()
    async with Worker(env.client, task_queue="query-tasks", workflows=[_Waits], activities=[_note]):
        handle = await env.client.start_workflow(
            _Waits.run, BUSY_SECONDS if while_busy else 0.0, id=str(uuid.uuid4()), task_queue="query-tasks"
        )
        if while_busy:
            await asyncio.wait_for(_note_started.wait(), WAIT_SECONDS)
        else:
            await _waiting(handle)
        for _ in range(queries):
            assert await handle.query(_Waits.view) is False  # while busy: answered once the task completes
        await handle.signal(_Waits.go)
        await handle.result()
    return list((await handle.fetch_history()).events)


async def test_a_read_while_a_task_runs_costs_a_task_on_the_test_server_only_and_it_is_left_out() -> None:
    temporal = await WorkflowEnvironment.start_local(dev_server_existing_path=installed_binary("temporal"))
    try:
        on_temporal = await _history(temporal, queries=1, while_busy=True)
    finally:
        await temporal.shutdown()
    test_server = await time_skipping_server()
    try:
        on_test_server = await _history(test_server, queries=1, while_busy=True)
    finally:
        await test_server.shutdown()

    assert without_query_tasks(on_temporal).query_tasks == 0
    written = without_query_tasks(on_test_server)
    assert written.query_tasks == 1
    assert len(on_test_server) == len(on_temporal) + len(TASK)
    assert _types(written.events) == _types(on_temporal)


async def _waiting(handle: WorkflowHandle[Any, Any]) -> None:
    """Until the first workflow task is done (its local activity recorded): reads made after it find none
    outstanding."""

    async def first_task_done() -> bool:
        events = (await handle.fetch_history()).events
        return any(e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED for e in events)

    await poll_until("the workflow's first task to complete", first_task_done, timeout=WAIT_SECONDS)


def _types(events: Sequence[HistoryEvent]) -> list[int]:
    return [e.event_type for e in events]


async def test_reads_of_a_waiting_workflow_write_nothing_and_nothing_is_left_out(
    server: WorkflowEnvironment,
) -> None:
    unread = await _history(server, queries=0)
    read = await _history(server, queries=3)
    assert _types(read) == _types(unread)
    assert without_query_tasks(unread).query_tasks == without_query_tasks(read).query_tasks == 0
    assert without_query_tasks(read).events == read


def _event(event_type: int) -> HistoryEvent:
    return HistoryEvent(event_type=event_type)  # type: ignore[arg-type]


def test_only_a_task_that_nothing_caused_and_that_wrote_nothing_is_left_out() -> None:
    started, signaled = (
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    )
    accepted, timer = (
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        EventType.EVENT_TYPE_TIMER_STARTED,
    )
    history = [
        _event(started),
        *map(_event, TASK),
        _event(timer),  # the first task: caused by the start
        *map(_event, TASK),  # a query's: left out
        *map(_event, TASK),
        _event(accepted),  # an Update's: nothing before it, but it took the Update
        _event(signaled),
        *map(_event, TASK),  # caused by a signal, wrote nothing
        *map(_event, TASK),  # a query's: left out
    ]
    written = without_query_tasks(history)
    assert written.query_tasks == 2
    assert [e.event_type for e in written.events] == [
        started,
        *TASK,
        timer,
        *TASK,
        accepted,
        signaled,
        *TASK,
    ]


def _marker() -> HistoryEvent:
    event = _event(EventType.EVENT_TYPE_MARKER_RECORDED)
    event.marker_recorded_event_attributes.marker_name = LOCAL_ACTIVITY_MARKER
    return event


def test_a_local_activitys_heartbeats_and_a_retried_task_are_kept() -> None:
    signaled = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    scheduled, started, _ = TASK
    failed = EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    history = [
        _event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
        *map(_event, TASK),  # starts a slow local activity: completes with nothing
        *map(_event, TASK),  # the heartbeat the worker asked for: nothing again
        *map(_event, TASK),
        _marker(),  # the local activity's result, at last
        _event(signaled),
        _event(scheduled),
        _event(started),
        _event(failed),  # a task that failed ...
        *map(_event, TASK),  # ... and its retry, which writes nothing
        _event(scheduled),
        _event(signaled),  # new input between a task's scheduling and its start
        _event(started),
        _event(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
    ]
    written = without_query_tasks(history)
    assert written.query_tasks == 0 and written.events == history


def test_every_event_type_is_classified_once() -> None:
    kinds = [set(CAUSES), set(WRITTEN), set(NEITHER), set(TASK)]
    for event_type in EventType.values():
        homes = sum(event_type in kind for kind in kinds)
        assert homes == 1, f"{EventType.Name(event_type)} is in {homes} of the event type sets"
