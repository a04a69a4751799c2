"""Updates survive the server's transient "not found" and "not ready".

The server answers an Update with NOT_FOUND not only for a workflow that does not exist: when it has cleared
a running workflow's update registry (a reloaded or busy history shard) it says so for an Update it may
already have applied, and expects the caller to retry. Taken at its word, a step the pathway recorded came
back as a 409 or 404, and its retry without the Update id would record it twice. So every Update carries an
id from the start (one the caller chose, else a new one) and, while the workflow still runs, is sent again
with that id: the server answers an Update it already took with its outcome. A workflow that has closed gets
one more try (a completed Update's id still answers it), and one the server does not have is not found.

A workflow that has just started (a relief check the pathway began a moment ago) is "not ready" until its
first workflow task is done (FAILED_PRECONDITION with WorkflowNotReadyFailure): the Update is sent again
too, as the server asks.
"""

import asyncio
import dataclasses
import uuid
from typing import Any

from temporalio.api.errordetails.v1 import WorkflowNotReadyFailure
from temporalio.client import (
    DescribeWorkflowInput,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowUpdateInput,
    WorkflowUpdateHandle,
)
from temporalio.service import RPCError, RPCStatusCode

FIRST_PAUSE_SECONDS = 0.05
LAST_PAUSE_SECONDS = 0.5
TRIES_WHILE_RUNNING = 12  # about 4 s of pauses: a cleared registry is rebuilt by the next try


class UpdateNotFoundRetries(Interceptor):
    """Client interceptor: see the module docstring."""

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Outbound(next)


class _Outbound(OutboundInterceptor):
    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> WorkflowUpdateHandle[Any]:
        if input.update_id is None:
            input = dataclasses.replace(input, update_id=str(uuid.uuid4()))
        pause, tries, closed_seen = FIRST_PAUSE_SECONDS, 0, False
        while True:
            try:
                return await self.next.start_workflow_update(input)
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND and not _not_ready(err):
                    raise
                tries += 1
                state = await self._state(input)
                if state == "closed" and not closed_seen:
                    closed_seen = True
                elif state != "running" or tries >= TRIES_WHILE_RUNNING:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, LAST_PAUSE_SECONDS)

    async def _state(self, input: StartWorkflowUpdateInput) -> str:
        """running, closed, or unknown (not found, or not known now)."""
        try:
            description = await self.next.describe_workflow(
                DescribeWorkflowInput(
                    id=input.id, run_id=input.run_id, rpc_metadata=input.rpc_metadata, rpc_timeout=None
                )
            )
        except RPCError:
            return "unknown"
        return "running" if description.close_time is None else "closed"


def _not_ready(err: RPCError) -> bool:
    """The server's answer to an Update that came before the workflow's first workflow task was done."""
    return err.status == RPCStatusCode.FAILED_PRECONDITION and any(
        detail.Is(WorkflowNotReadyFailure.DESCRIPTOR) for detail in err.grpc_status.details
    )
