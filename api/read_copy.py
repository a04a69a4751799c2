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

The view is also a function of the code that reads it (the workflows, their queries, `with_child`, the view's
model): the workers answer with the version of the code they run (workflows/view_version.py), a view is
kept only when the pathway's and its child's workers run this process's own (VIEW_VERSION), and a copy is
served only under it. After a deploy each pathway's first read queries again; while old and new builds run
side by side, a view read by another build than this process's is answered and never kept. The copy is kept
as the payload converter and codec encode it, encrypted as in history. Losing or failing to write a copy
loses nothing: the next read queries.
"""

import asyncio
from datetime import UTC, datetime

import structlog
from temporalio.api.common.v1 import Payload, WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from db.pool import Queryable
from db.read_copies import Place, ViewCopy, drop_copy, fetch_copy, store_copy
from domain.view import PathwayView
from workflows.reading import child_read_by, read_versioned_view, with_versioned_child
from workflows.view_version import VIEW_CODE_VERSION

log = structlog.get_logger()

VIEW_VERSION = VIEW_CODE_VERSION
"""The version of the code this process reads views with: a copy read by another is not served."""


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
        _described(client, pathway_id), _fetched(conn, pathway_id), return_exceptions=True
    )
    if isinstance(described, BaseException):
        if isinstance(described, RPCError) and described.status == RPCStatusCode.NOT_FOUND:
            await _forget(conn, pathway_id)  # Temporal's retention has ended: nothing to serve it for
        raise described
    assert not isinstance(stored, BaseException)  # _fetched raises none
    place, closed_at = described
    if stored is not None and await _still_true(client, stored, place):
        view = await decoded_view(client, stored.payload)
        if view is not None:
            return view
        await _forget(conn, pathway_id)  # so that the view read now takes its place
    return await _read_and_store(client, conn, pathway_id, place, closed_at)


async def _still_true(client: Client, stored: ViewCopy, place: Place) -> bool:
    if stored.version != VIEW_VERSION or stored.place != place:
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
    view, version = await read_versioned_view(client, pathway_id)
    child_id = child_read_by(view)
    child_place: Place | None = None
    child_version: str | None = VIEW_VERSION
    if child_id is not None:
        try:
            child_place = await place_of(client, child_id)
            view, child_version = await with_versioned_child(client, view)
        except RPCError:
            return view  # the child ended between the reads: the pathway is taking its result; not stored
    if not version == child_version == VIEW_VERSION:
        # Read (in part) by other code than this process's: a worker of an older or newer build during a
        # deploy. Served as read, and not kept: the copy would stand for this code's view.
        return view
    try:
        payload = await encoded_view(client, view)
        copy = ViewCopy(place, child_id, child_place, VIEW_VERSION, payload, closed_at)
        await store_copy(conn, pathway_id, copy)
    except Exception as err:  # the view is read: the next read queries again
        log.warning("read_copy.store_failed", error=type(err).__name__)
    return view


async def _fetched(conn: Queryable, pathway_id: str) -> ViewCopy | None:
    try:
        return await fetch_copy(conn, pathway_id)
    except Exception as err:  # a copy that cannot be read is one not kept: the read queries
        log.warning("read_copy.fetch_failed", error=type(err).__name__)
        return None


async def _forget(conn: Queryable, pathway_id: str) -> None:
    try:
        await drop_copy(conn, pathway_id)
    except Exception as err:  # never served as it is; the purge takes it later (api/read_copy_retention.py)
        log.warning("read_copy.drop_failed", error=type(err).__name__)


async def encoded_view(client: Client, view: PathwayView) -> bytes:
    """The view as a copy keeps it: encoded by the client's payload converter and codec, serialized."""
    [payload] = await client.data_converter.encode([view])
    return payload.SerializeToString()


async def decoded_view(client: Client, data: bytes) -> PathwayView | None:
    """The stored view, or None when it no longer decodes (its codec key retired); the read then queries."""
    try:
        [view] = await client.data_converter.decode([Payload.FromString(data)], [PathwayView])
    except Exception as err:
        log.warning("read_copy.undecodable", error=type(err).__name__)
        return None
    assert isinstance(view, PathwayView)
    return view
