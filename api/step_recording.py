"""How every step route records its step: the Update sent under the request's Idempotency-Key (its id), the
answer turned into the API's statuses, the audit row, and the view read after the step.

A key is claimed before the Update is sent and released when the pathway refuses the step; a step not
confirmed within the API's timeout is 503 `step-pending`, and its retry with the same key attaches to it. Once
the step is taken, the key says so: a retry answers the view at once, without sending the Update again.

A keyed step is audited once as pending (a request that timed out) and once as taken, whichever of its
requests gets there first: each audit row and a marker under the key commit together (`_audit`).
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import Depends
from pydantic import BaseModel
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api.dependencies import AppSettings, PathwayHandle, Pool, TemporalClient
from api.idempotency import IdempotencyKey, StepKey, claim_step_key, release_step_key, step_key_taken
from api.problems import Problem
from api.temporal_errors import missing_or_closed, refused
from api.views import current_view
from db import audit
from db.api_clients import ApiClient
from db.idempotency import forget_key, remember_key
from domain.view import PathwayView

# The fields that name who took a step; each step's audit row keeps them.
_WHO = (
    "reviewed_by",
    "examined_by",
    "performed_by",
    "decided_by",
    "requested_by",
    "resolved_by",
    "called_by",
    "recorded_by",
)

# Sends the step's Update with the given id (None: a fresh one) and waits for its result.
Send = Callable[[str | None], Awaitable[object]]


@dataclass(frozen=True)
class StepRequest:
    """What every step route needs beside its client and body."""

    handle: PathwayHandle
    temporal: TemporalClient
    pool: Pool
    settings: AppSettings
    idempotency_key: str | None
    received_at: datetime
    """When the request arrived (its dependencies are read first)."""


async def step_request(
    handle: PathwayHandle,
    temporal: TemporalClient,
    pool: Pool,
    settings: AppSettings,
    idempotency_key: IdempotencyKey = None,
) -> StepRequest:
    return StepRequest(handle, temporal, pool, settings, idempotency_key, datetime.now(UTC))


Step = Annotated[StepRequest, Depends(step_request)]


async def recorded(
    step: StepRequest,
    client: ApiClient,
    route: str,
    body: BaseModel,
    send: Send,
    action: str,
    *,
    workflow_id: str | None = None,
) -> PathwayView:
    """Runs the step's Update (under the request's Idempotency-Key), audits it, and answers the view as it
    stands after the step.

    A key is released when the step is refused (a refused Update is not in history, so its id is free) or
    the pathway is missing; it stays claimed when the step is pending or its fate is unknown, so that the
    retry with the key attaches to the Update sent here. The Update goes to the pathway, or to the workflow
    named by `workflow_id` (a relief check), and the key is bound to that workflow."""
    handle = step.handle
    target = workflow_id or handle.id
    key: StepKey | None = None
    if step.idempotency_key is not None:
        key = await claim_step_key(step.pool, client, route, step.idempotency_key, target, body)
    try:
        if key is None or not key.taken:
            await asyncio.wait_for(
                send(key.update_id if key else None), timeout=step.settings.update_timeout_seconds
            )
    except WorkflowUpdateFailedError as err:
        await _release(step, key)
        raise refused(err) from err
    except Problem:  # the relief check has ended
        await _release(step, key)
        raise
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            await _release(step, key)
        await missing_or_closed(handle, err)
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
        # The SDK turns the timeout's cancellation into its own error: either way the step is pending. It
        # may be applied without a retry, so the write is audited now, as not yet confirmed (under a key,
        # once however often it times out; a retry that confirms it writes the taken row).
        pending = {"confirmed": False, **_who(body)}
        await _audit(step, client, key, target, action, confirmed=False, detail=pending)
        again = "retry with the same Idempotency-Key" if key else "read the pathway before sending it again"
        raise Problem(
            503,
            "step-pending",
            f"The pathway has not confirmed the step yet; {again} shortly.",
            headers={"Retry-After": "2"},
        ) from err
    if key is not None and not key.taken:
        await step_key_taken(step.pool, key)
    view = await current_view(step.temporal, step.pool, handle.id)
    who = _who(body) or None
    await _audit(step, client, key, target, action, confirmed=True, patient_ref=view.patient_ref, detail=who)
    return view


async def _audit(
    step: StepRequest,
    client: ApiClient,
    key: StepKey | None,
    target: str,
    action: str,
    *,
    confirmed: bool,
    patient_ref: str | None = None,
    detail: dict[str, Any] | None,
) -> None:
    """Writes the step's audit row (pending, or taken when `confirmed`); under a key, once for all the
    requests that send it.

    The row and a marker under the key (`_audited`) are inserted in one transaction: a concurrent retry
    waits for the marker and writes nothing, and a request that dies before it commits leaves neither, so
    its retry (which gets here whether the step was taken or not) writes the row."""
    row = partial(
        audit.record,
        actor=client.name,
        action=action,
        pathway_id=step.handle.id,
        patient_ref=patient_ref,
        detail=detail,
    )
    if key is None:
        await row(step.pool)
        return
    async with step.pool.acquire() as conn, conn.transaction():
        marker = (key.client_id, _audited(key.route, confirmed), key.key, key.request_hash, target)
        _, first = await remember_key(conn, *marker)
        if first:
            await row(conn)


def _audited(route: str, confirmed: bool) -> str:
    """The route of the marker that a key's step was audited (as taken, or as pending): no step's route has
    a colon."""
    return f"{route}:audited" if confirmed else f"{route}:audited-pending"


def _who(body: BaseModel) -> dict[str, Any]:
    """Who took the step, as the body names them (`{"reviewed_by": "Dr. Lee"}`); empty for a patient's."""
    return {name: value for name in _WHO if isinstance(value := getattr(body, name, None), str)}


async def _release(step: StepRequest, key: StepKey | None) -> None:
    """Frees the key and its pending audit marker (a refused step has no other), so that the corrected step
    is audited. The marker goes first: a request that dies in between leaves the key claimed without it, so
    its step is audited again at worst, never not at all."""
    if key is not None:
        await forget_key(step.pool, key.client_id, _audited(key.route, False), key.key, key.request_hash)
        await release_step_key(step.pool, key)
