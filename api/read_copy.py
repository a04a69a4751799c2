"""A pathway's view served from its read copy while the workflow's history has not moved on, and read with a
query (and the copy renewed) when it has.

A query is answered by the worker, and waits its turn there behind every workflow task and query before it:
under load a read is as slow as the busiest worker (README "Performance"). But a view is a function of the
workflow's history (the worker rebuilds it by replay), so a view read at a place in history stays true until
history grows. Describing a workflow is answered by the Temporal server from its own state, without the
worker: a read describes the pathway (and the child whose state the view shows) and serves the copy when the
places match; otherwise it queries, and stores the view with the places it described first. A query answers
with every event already in history (the server holds it back while a workflow task is in flight), so a
stored view is never older than its places. The workflow stays the only source: a copy whose places do not
match is never served, whatever it holds.
"""

import asyncio
from datetime import UTC, datetime

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from db.pool import Queryable
from db.view_copies import Place, ViewCopy, drop_copy, fetch_copy, store_copy
from domain.view import PathwayView
from workflows.reading import child_read_by, read_own_view, with_child


async def place_of(client: Client, workflow_id: str) -> Place:
    """Where the workflow's latest run stands; raises RPCError (NOT_FOUND: no such workflow)."""
    return (await _described(client, workflow_id))[0]


async def _described(client: Client, workflow_id: str) -> tuple[Place, datetime | None]:
    """Where the workflow's latest run stands, and when it closed (None: it runs)."""
    described = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
        ),
        retry=True,
    )
    info = described.workflow_execution_info
    closed_at = info.close_time.ToDatetime(UTC) if info.HasField("close_time") else None
    return Place(info.execution.run_id, info.history_length), closed_at


async def read_view(client: Client, conn: Queryable, pathway_id: str) -> PathwayView:
    """The pathway's view, as `workflows.reading.read_pathway_view` reads it; raises RPCError as it does."""
    described, stored = await asyncio.gather(
        _described(client, pathway_id), fetch_copy(conn, pathway_id), return_exceptions=True
    )
    if isinstance(described, RPCError) and described.status == RPCStatusCode.NOT_FOUND:
        await drop_copy(conn, pathway_id)  # Temporal's retention has ended: nothing to serve it for
    for outcome in (described, stored):
        if isinstance(outcome, BaseException):
            raise outcome
    assert isinstance(described, tuple) and not isinstance(stored, BaseException)
    place, closed_at = described
    if stored is not None and await _still_true(client, stored, place):
        return stored.view
    return await _read_and_store(client, conn, pathway_id, place, closed_at)


async def _still_true(client: Client, stored: ViewCopy, place: Place) -> bool:
    if stored.place != place:
        return False
    if stored.child_id is None:
        return True
    try:
        return await place_of(client, stored.child_id) == stored.child_place
    except RPCError:
        return False  # read it again, as a query would


async def _read_and_store(
    client: Client, conn: Queryable, pathway_id: str, place: Place, closed_at: datetime | None
) -> PathwayView:
    view = await read_own_view(client, pathway_id)
    child_id = child_read_by(view)
    child_place = None
    if child_id is not None:
        try:
            child_place = await place_of(client, child_id)
            view = await with_child(client, view)
        except RPCError:
            return view  # the child ended between the reads: the pathway is taking its result; not stored
    await store_copy(conn, pathway_id, ViewCopy(place, child_id, child_place, view, closed_at))
    return view
