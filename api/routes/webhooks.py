"""`/v1/webhooks`: an upstream system's subscriptions to pathway events, and their deliveries (scope
`webhooks:admin`; README "Webhooks").

A subscription's secret (Standard Webhooks, `whsec_` and base64 of 32 random bytes) is in the answer to the
create only; a retry of the create with its `Idempotency-Key` answers the same subscription and secret. A key
limited to clinic sites makes subscriptions limited to those sites, and reaches only subscriptions limited to
some of them: any other reads as an unknown id (404). Writes are audited; nothing here reads PHI (deliveries
show event ids, types and pathway ids), and no answer or log line repeats a receiver's URL but the
subscription's own.
"""

import base64
import secrets
import uuid
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from api import page_tokens
from api.auth import require_scope
from api.dependencies import AppSettings, Pool
from api.idempotency import IdempotencyKey, request_hash, reused
from api.problems import Problem, problem_responses
from api.site_access import Sites
from db import audit
from db import webhook_deliveries as deliveries
from db import webhook_subscriptions as subscriptions
from db.api_clients import ApiClient
from db.idempotency import keep_answer, remember_key
from db.pool import Queryable
from db.signing_secrets import signing_secret
from db.webhook_outbox import WAKE_CHANNEL
from domain.fields import Reason
from domain.webhook_events import EventType
from domain.webhook_receivers import MAX_URL_CHARS, event_types_problem, receiver_url_problem

router = APIRouter(tags=["webhooks"])
WebhooksAdmin = Annotated[ApiClient, Depends(require_scope("webhooks:admin"))]
ROUTE = "webhooks"
"""The route an Idempotency-Key of a create is scoped to (with the API client)."""
SubscriptionId = Annotated[uuid.UUID, Path(description="The subscription's id")]
DeliveryId = Annotated[uuid.UUID, Path(description="The delivery's id")]


def _not_found() -> Problem:
    return Problem(404, "webhook-not-found", "No webhook subscription has this id.")


class NewWebhookSubscription(BaseModel):
    """A receiver's URL and the event types it wants."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: StrictStr = Field(
        description="Absolute https:// URL (http:// only in the demo profile or with"
        f" DVR_WEBHOOK_ALLOW_HTTP), no user name or password, at most {MAX_URL_CHARS} characters"
    )
    event_types: list[StrictStr] = Field(
        description="The event types to receive, each once: " + ", ".join(f"`{t.value}`" for t in EventType)
    )
    description: Reason | None = None


class WebhookSubscription(BaseModel):
    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str | None
    clinic_sites: list[str] | None = Field(
        description="The clinic sites whose pathways' events it receives; null: every site"
    )
    created_at: datetime


class CreatedWebhookSubscription(WebhookSubscription):
    secret: str = Field(
        description="The key deliveries are signed with (Standard Webhooks `whsec_...`)."
        " Shown only here: keep it"
    )


class WebhookSubscriptionList(BaseModel):
    items: list[WebhookSubscription]


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


def _shown(subscription: subscriptions.Subscription) -> WebhookSubscription:
    return WebhookSubscription(
        id=subscription.id,
        url=subscription.url,
        event_types=subscription.event_types,
        description=subscription.description,
        clinic_sites=subscription.clinic_sites,
        created_at=subscription.created_at,
    )


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


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@router.post(
    "/v1/webhooks",
    status_code=201,
    summary="Subscribe a receiver to pathway events",
    description="Answers the subscription with its signing secret, which is never shown again. A retry with"
    " the same Idempotency-Key (and body) answers the same subscription and secret; nothing more is made.",
    response_model=CreatedWebhookSubscription,
    responses={
        201: {
            "description": "The subscription, with its secret (a retry with its key: the same)",
            "headers": {"Location": {"description": "The subscription's URL", "schema": {"type": "string"}}},
        },
        **problem_responses(401, 403, 422, 503),
    },
)
async def create_webhook(
    body: NewWebhookSubscription,
    client: WebhooksAdmin,
    sites: Sites,
    pool: Pool,
    settings: AppSettings,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    for problem in (
        event_types_problem(body.event_types),
        receiver_url_problem(
            body.url, allow_http=settings.webhook_http_allowed, allowed=settings.webhook_networks_allowed
        ),
    ):
        if problem is not None:
            raise Problem(422, "invalid-webhook", problem)
    body_hash = request_hash(body)
    async with pool.acquire() as conn, conn.transaction():
        if idempotency_key is not None:
            stored, first = await remember_key(
                conn, client.client_id, ROUTE, idempotency_key, body_hash, ROUTE
            )
            if stored.request_hash != body_hash:
                raise reused()
            if not first:
                assert stored.answer is not None  # committed with the key, by the first request
                return await _created_answer(
                    conn, uuid.UUID(stored.answer["subscription_id"]), SECRET_SHOWN_AGAIN_SECONDS
                )
        subscription = await subscriptions.create(
            conn,
            url=body.url,
            event_types=body.event_types,
            secret=new_secret(),
            clinic_sites=None if sites.sites is None else sorted(sites.sites),
            description=body.description,
            created_by=client.name,
        )
        if idempotency_key is not None:
            answer = {"subscription_id": str(subscription.id)}
            await keep_answer(conn, client.client_id, ROUTE, idempotency_key, body_hash, answer)
        await audit.record(
            conn,
            actor=client.name,
            action="webhook.create",
            # The receiver's host only: a path or query may carry the receiver's own token.
            detail={
                "subscription_id": str(subscription.id),
                "host": urlsplit(body.url).hostname,
                "event_types": body.event_types,
                "clinic_sites": subscription.clinic_sites,
            },
        )
        return await _created_answer(conn, subscription.id)


# A retried create gets the secret again for a day, to recover an answer lost on the way; after that, or once
# the subscription is deleted, the secret is never shown again (whoever holds the key and guesses the
# Idempotency-Key could otherwise read it back and sign webhooks of their own).
SECRET_SHOWN_AGAIN_SECONDS = 24 * 3600.0


async def _created_answer(
    conn: Queryable, subscription_id: uuid.UUID, made_within_seconds: float | None = None
) -> JSONResponse:
    """The answer to a create, and to its retries: the subscription as made, with its secret."""
    found = await subscriptions.with_secret(conn, subscription_id, made_within_seconds)
    if found is None:
        raise Problem(
            409,
            "secret-no-longer-shown",
            "The subscription made with this Idempotency-Key is deleted or was made over a day ago, and its"
            " secret is not shown again: make a new subscription.",
        )
    subscription, secret = found
    created = CreatedWebhookSubscription(**_shown(subscription).model_dump(), secret=secret)
    return JSONResponse(
        created.model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/v1/webhooks/{subscription.id}", "Cache-Control": "no-store"},
    )


@router.get(
    "/v1/webhooks",
    summary="List webhook subscriptions (without their secrets)",
    responses=problem_responses(401, 403, 503),
)
async def list_webhooks(client: WebhooksAdmin, sites: Sites, pool: Pool) -> WebhookSubscriptionList:
    return WebhookSubscriptionList(items=[_shown(s) for s in await subscriptions.listed(pool, sites.sites)])


@router.get(
    "/v1/webhooks/{subscription_id}",
    summary="A webhook subscription (without its secret)",
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_webhook(
    subscription_id: SubscriptionId, client: WebhooksAdmin, sites: Sites, pool: Pool
) -> WebhookSubscription:
    found = await subscriptions.find(pool, subscription_id, sites.sites)
    if found is None:
        raise _not_found()
    return _shown(found)


@router.delete(
    "/v1/webhooks/{subscription_id}",
    status_code=204,
    summary="Delete a webhook subscription",
    description="Nothing more is sent to it: its pending deliveries are cancelled. Deleting it again answers"
    " 204 as well.",
    response_class=Response,
    responses={204: {"description": "Deleted (now or before)"}, **problem_responses(401, 403, 404, 422, 503)},
)
async def delete_webhook(
    subscription_id: SubscriptionId, client: WebhooksAdmin, sites: Sites, pool: Pool
) -> Response:
    async with pool.acquire() as conn, conn.transaction():
        deleted = await subscriptions.delete(conn, subscription_id, sites.sites)
        if not deleted.existed:
            raise _not_found()
        if deleted.now:
            await audit.record(
                conn,
                actor=client.name,
                action="webhook.delete",
                detail={"subscription_id": str(subscription_id), "deliveries_cancelled": deleted.cancelled},
            )
    return Response(status_code=204)


@router.get(
    "/v1/webhooks/{subscription_id}/deliveries",
    summary="A subscription's deliveries, newest first",
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def list_deliveries(
    subscription_id: SubscriptionId,
    client: WebhooksAdmin,
    sites: Sites,
    pool: Pool,
    request: Request,
    status: deliveries.DeliveryStatus | None = None,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    page_token: Annotated[str | None, Query(max_length=4096)] = None,
) -> WebhookDeliveryPage:
    if await subscriptions.find(pool, subscription_id, sites.sites) is None:
        raise _not_found()
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
    sites: Sites,
    pool: Pool,
) -> WebhookDelivery:
    async with pool.acquire() as conn, conn.transaction():
        if await subscriptions.find(conn, subscription_id, sites.sites) is None:
            raise _not_found()
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
