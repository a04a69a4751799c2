"""`/v1/webhooks/{subscription_id}/deliveries`: a subscription's deliveries, and sending one again (scope
`webhooks:admin`; README "Webhooks"). The subscriptions themselves: api/routes/webhooks.py.

A key reaches the deliveries of the subscriptions it reaches (api/routes/webhooks.py); any other
subscription reads as an unknown id (404). A redelivery is audited; nothing here reads PHI (deliveries show
event ids, types and pathway ids), and no answer or log line repeats a receiver's URL.
"""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from api import page_tokens
from api.dependencies import Pool
from api.problems import Problem, problem_responses
from api.routes.webhooks import Reachable, SubscriptionId, WebhooksAdmin
from db import audit
from db import webhook_deliveries as deliveries
from db.signing_secrets import signing_secret
from db.webhook_outbox import WAKE_CHANNEL

router = APIRouter(tags=["webhooks"])
DeliveryId = Annotated[uuid.UUID, Path(description="The delivery's id")]


class WebhookDelivery(BaseModel):
    delivery_id: uuid.UUID
    event_id: str = Field(description="The event's id, sent as `webhook-id` on every attempt")
    event_type: str
    pathway_id: str
    status: deliveries.DeliveryStatus
    attempts: int = Field(description="Attempts since it was made (or last redelivered)")
    last_attempt_at: datetime | None
    last_status_code: int | None = Field(description="The receiver's HTTP status at the last attempt")
    last_error: str | None = Field(
        description="Why the last attempt failed, e.g. `HTTP 500`, `timeout`, `connection failed`"
    )
    next_attempt_at: datetime | None = Field(
        default=None, description="When it is next attempted (pending deliveries only)"
    )
    delivered_at: datetime | None
    created_at: datetime


class WebhookDeliveryPage(BaseModel):
    items: list[WebhookDelivery]
    next_page_token: str | None


def _delivery(found: deliveries.Delivery) -> WebhookDelivery:
    return WebhookDelivery(
        delivery_id=found.delivery_id,
        event_id=found.event_id,
        event_type=found.event_type,
        pathway_id=found.pathway_id,
        status=found.status,
        attempts=found.attempts,
        last_attempt_at=found.last_attempt_at,
        last_status_code=found.last_status_code,
        last_error=found.last_error,
        next_attempt_at=found.next_attempt_at,
        delivered_at=found.delivered_at,
        created_at=found.created_at,
    )


@router.get(
    "/v1/webhooks/{subscription_id}/deliveries",
    summary="A subscription's deliveries, newest first",
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def list_deliveries(
    subscription_id: SubscriptionId,
    client: WebhooksAdmin,
    reachable: Reachable,
    pool: Pool,
    request: Request,
    status: deliveries.DeliveryStatus | None = None,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    page_token: Annotated[str | None, Query(max_length=4096)] = None,
) -> WebhookDeliveryPage:
    await reachable.get(subscription_id)
    # A token is sealed to the subscription and the filter it was issued for (api/page_tokens.py).
    query = f"webhook-deliveries|{subscription_id}|{status.value if status else ''}"
    secret = await _page_token_secret(request)
    raw = page_tokens.read(secret, query, page_token)
    after = None if raw is None else deliveries.Cursor.decode(raw)
    found, cursor = await deliveries.page(pool, subscription_id, status=status, size=page_size, after=after)
    return WebhookDeliveryPage(
        items=[_delivery(d) for d in found],
        next_page_token=page_tokens.issue(secret, query, None if cursor is None else cursor.encode()),
    )


@router.post(
    "/v1/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    summary="Send a delivery again",
    description="A failed or delivered delivery is pending again, its attempts reset, due now; it is sent"
    " with the same event id (`webhook-id`). A pending one is left as it is (a retried request does no more)."
    " A cancelled one (its subscription was deleted) is 409.",
    responses={
        202: {"description": "The delivery, pending (or delivered again already)"},
        **problem_responses(401, 403, 404, 409, 422, 503),
    },
)
async def redeliver(
    subscription_id: SubscriptionId,
    delivery_id: DeliveryId,
    client: WebhooksAdmin,
    reachable: Reachable,
    pool: Pool,
) -> WebhookDelivery:
    async with pool.acquire() as conn, conn.transaction():
        await reachable.get(subscription_id, conn)
        before = await deliveries.find(conn, subscription_id, delivery_id)
        if before is None:
            raise Problem(404, "webhook-delivery-not-found", "The subscription has no delivery with this id.")
        if before.status == deliveries.DeliveryStatus.CANCELLED:
            raise Problem(
                409, "webhook-delivery-cancelled", "This delivery was cancelled: it cannot be sent again."
            )
        now = await deliveries.redeliver(conn, subscription_id, delivery_id)
        assert now is not None
        if before.status != deliveries.DeliveryStatus.PENDING:
            await audit.record(
                conn,
                actor=client.name,
                action="webhook.redeliver",
                pathway_id=now.pathway_id,
                detail={"subscription_id": str(subscription_id), "delivery_id": str(delivery_id)},
            )
            await conn.execute(f"notify {WAKE_CHANNEL}")  # the sender takes it at once
    return _delivery(now)


async def _page_token_secret(request: Request) -> bytes:
    """The page token secret, read from the database once per process."""
    state = request.app.state
    if getattr(state, "page_token_secret", None) is None:
        state.page_token_secret = await signing_secret(state.pool, "page_tokens")
    secret: bytes = state.page_token_secret
    return secret
