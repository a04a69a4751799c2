"""Which workflow tasks the pathway-cost benchmark leaves out (bench/query_tasks.py): none of a workflow read
while it waits, on the time-skipping test server and the dev server (the Temporal server); and, in a history,
only the tasks that nothing caused and that wrote nothing."""

import asyncio
import time
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
from bench.query_tasks import without_query_tasks
from config.binaries import installed_binary
from tests.workflows.eventually import POLL_SECONDS, WAIT_SECONDS

_TASK = (
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
)


@pytest.fixture(params=["time-skipping test server", "dev server"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[WorkflowEnvironment]:
    if request.param == "dev server":
        env = await WorkflowEnvironment.start_local(dev_server_existing_path=installed_binary("temporal"))
    else:
        env = await time_skipping_server()
    yield env
    await env.shutdown()


@activity.defn
async def _note() -> None:
    return None


@workflow.defn(sandboxed=False)
class _Waits:
    """A local activity, then a wait for a signal: the shape of a pathway's step."""

    def __init__(self) -> None:
        self._go = False

    @workflow.run
    async def run(self) -> None:
        await workflow.execute_local_activity(_note, start_to_close_timeout=timedelta(seconds=10))
        await workflow.wait_condition(lambda: self._go)

    @workflow.query
    def view(self) -> bool:
        return self._go

    @workflow.signal
    def go(self) -> None:
        self._go = True


async def _history(env: WorkflowEnvironment, queries: int) -> list[HistoryEvent]:
    """The workflow run with `queries` reads once it waits (each read answered before the next)."""
    async with Worker(env.client, task_queue="query-tasks", workflows=[_Waits], activities=[_note]):
        handle = await env.client.start_workflow(_Waits.run, id=str(uuid.uuid4()), task_queue="query-tasks")
        await _waiting(handle)
        for _ in range(queries):
            assert await handle.query(_Waits.view) is False
        await handle.signal(_Waits.go)
        await handle.result()
    return list((await handle.fetch_history()).events)


async def _waiting(handle: WorkflowHandle[Any, Any]) -> None:
    """Until the first workflow task is done (its local activity recorded): reads made after it find none
    outstanding."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        events = (await handle.fetch_history()).events
        if any(e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED for e in events):
            return
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError("the workflow's first task did not complete")


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
        *map(_event, _TASK),
        _event(timer),  # the first task: caused by the start
        *map(_event, _TASK),  # a query's: left out
        *map(_event, _TASK),
        _event(accepted),  # an Update's: nothing before it, but it took the Update
        _event(signaled),
        *map(_event, _TASK),  # caused by a signal, wrote nothing
        *map(_event, _TASK),  # a query's: left out
    ]
    written = without_query_tasks(history)
    assert written.query_tasks == 2
    assert [e.event_type for e in written.events] == [
        started,
        *_TASK,
        timer,
        *_TASK,
        accepted,
        signaled,
        *_TASK,
    ]
