"""`/v1/webhooks`: an upstream system's subscriptions to pathway events (scope `webhooks:admin`; README
"Webhooks"). Their deliveries: api/routes/webhook_deliveries.py.

A subscription's secret (Standard Webhooks, `whsec_` and base64 of 32 random bytes) is in the answer to the
create only; a retry of the create with its `Idempotency-Key` answers the same subscription and secret. A key
limited to clinic sites makes subscriptions limited to those sites, and reaches only subscriptions limited to
some of them: any other reads as an unknown id (404). Writes are audited; nothing here reads PHI, and no
answer or log line repeats a receiver's URL but the subscription's own.
"""

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

import asyncpg
from fastapi import APIRouter, Depends, Path, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from api.auth import require_scope
from api.dependencies import AppSettings, Pool
from api.idempotency import IdempotencyKey, request_hash, reused
from api.problems import Problem, problem_responses
from api.site_access import SiteAccess, Sites
from db import audit
from db import webhook_subscriptions as subscriptions
from db.api_clients import ApiClient
from db.idempotency import keep_answer, remember_key
from db.pool import Queryable
from domain.fields import Reason
from domain.webhook_events import EventType
from domain.webhook_receivers import MAX_URL_CHARS, event_types_problem, receiver_url_problem

router = APIRouter(tags=["webhooks"])
WebhooksAdmin = Annotated[ApiClient, Depends(require_scope("webhooks:admin"))]
ROUTE = "webhooks"
"""The route an Idempotency-Key of a create is scoped to (with the API client)."""
SubscriptionId = Annotated[uuid.UUID, Path(description="The subscription's id")]


def _not_found() -> Problem:
    return Problem(404, "webhook-not-found", "No webhook subscription has this id.")


@dataclass(frozen=True)
class ReachableSubscriptions:
    """The webhook subscriptions a request's key reaches: every one not deleted, or (a key limited to clinic
    sites) those limited to some of its sites."""

    sites: SiteAccess
    pool: asyncpg.Pool

    async def get(
        self, subscription_id: uuid.UUID, conn: Queryable | None = None
    ) -> subscriptions.Subscription:
        """The subscription, else 404: the same for an unknown id, a deleted one and another site's, so a
        limited key learns nothing of other sites. Looked up when the route asks (on `conn` if given, e.g.
        in its transaction), not as the request is solved: a request that is invalid as well stays a 422."""
        found = await subscriptions.find(
            self.pool if conn is None else conn, subscription_id, self.sites.sites
        )
        if found is None:
            raise _not_found()
        return found


async def reachable_subscriptions(client: WebhooksAdmin, sites: Sites, pool: Pool) -> ReachableSubscriptions:
    # It takes the scope too: a key without `webhooks:admin` is 403 before any subscription is looked up.
    return ReachableSubscriptions(sites, pool)


Reachable = Annotated[ReachableSubscriptions, Depends(reachable_subscriptions)]
"""The subscriptions the key reaches (api/routes/webhooks.py and webhook_deliveries.py)."""


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


def _shown(subscription: subscriptions.Subscription) -> WebhookSubscription:
    return WebhookSubscription(
        id=subscription.id,
        url=subscription.url,
        event_types=subscription.event_types,
        description=subscription.description,
        clinic_sites=subscription.clinic_sites,
        created_at=subscription.created_at,
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
    subscription_id: SubscriptionId, client: WebhooksAdmin, reachable: Reachable
) -> WebhookSubscription:
    return _shown(await reachable.get(subscription_id))


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
