"""Helpers for the webhook tests: subscriptions through the API, events put into the outbox, a clean slate."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Network
from typing import Any

import asyncpg
import httpx
from temporalio.client import Client

from db.seed import DEMO_SITE
from db.webhook_outbox import record_events
from delivery.task_stopping import cancel_until_done
from delivery.webhook_sender import SenderSettings, WebhookSender
from domain.webhook_events import EventType, PathwayEvents, WebhookEvent
from tests.integration.limited_keys import limited_api


@dataclass(frozen=True)
class Hooks:
    """A clinic of the test's own, and a client whose key is limited to it: its subscriptions hear only of
    the events the test records there, not of the pathways other tests left running."""

    site: str
    api: httpx.AsyncClient


@asynccontextmanager
async def own_clinic(pool: asyncpg.Pool, temporal: Client) -> AsyncIterator[Hooks]:
    async with limited_api(pool, temporal, "hooks") as (site, client):
        yield Hooks(site, client)


async def subscribe(
    api: httpx.AsyncClient, url: str, event_types: list[str] | None = None, **headers: str
) -> dict[str, Any]:
    """A new subscription (with its secret) to `event_types` (default: every type)."""
    body = {"url": url, "event_types": event_types or [t.value for t in EventType]}
    answer = await api.post("/v1/webhooks", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def new_pathway_id() -> str:
    return f"pathway-{uuid.uuid4()}"


async def record(
    pool: asyncpg.Pool,
    pathway_id: str,
    count: int = 1,
    *,
    site: str = DEMO_SITE,
    event_type: EventType = EventType.STAGE_CHANGED,
) -> list[str]:
    """Writes the next `count` events of a pathway to the outbox, in one transaction; their ids, in order."""
    written = await pool.fetchval(
        "select coalesce(max(sequence), 0) from webhook_events where pathway_id = $1", pathway_id
    )
    events = [
        WebhookEvent(
            id=f"evt_{uuid.uuid4().hex}",
            type=event_type,
            time=datetime.now(UTC),
            pathway_id=pathway_id,
            patient_ref=str(uuid.uuid4()),
            sequence=written + n + 1,
            data={"n": n},
        )
        for n in range(count)
    ]
    await record_events(pool, PathwayEvents(pathway_id=pathway_id, clinic_site=site, events=events))
    return [event.id for event in events]


async def forget_subscriptions(pool: asyncpg.Pool) -> None:
    """Deletes every subscription and cancels what was still to go: one test's receivers are not the next
    test's business."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("update webhook_subscriptions set deleted_at = now() where deleted_at is null")
        await conn.execute("update webhook_deliveries set status = 'cancelled' where status = 'pending'")


async def deliveries_of(pool: asyncpg.Pool, subscription_id: str) -> list[asyncpg.Record]:
    """The subscription's deliveries in event order, with their event ids."""
    return await pool.fetch(
        "select d.*, e.event_id from webhook_deliveries d join webhook_events e on e.seq = d.event_seq"
        " where d.subscription_id = $1 order by d.event_seq",
        uuid.UUID(subscription_id),
    )


# The receivers listen on loopback ports, allowed as in the demo profile.
LOOPBACK = (IPv4Network("127.0.0.0/8"),)
# A few zero-second retries: a failing receiver is tried again at once.
FAST = SenderSettings(
    retry_seconds=(0.0, 0.0, 0.0),
    timeout_seconds=2.0,
    lease_seconds=4.0,
    poll_seconds=0.2,
    concurrency=4,
    allowed_networks=LOOPBACK,
)


@asynccontextmanager
async def sending(
    pool: asyncpg.Pool, database: str, settings: SenderSettings = FAST
) -> AsyncIterator[WebhookSender]:
    """A sender running in the test's process for as long as the block lasts."""
    async with httpx.AsyncClient(trust_env=False) as http:
        sender = WebhookSender(pool, lambda: asyncpg.connect(database), http, settings)
        task = asyncio.create_task(sender.run())
        try:
            yield sender
        finally:
            await cancel_until_done(task)  # one cancellation can be dropped (delivery/task_stopping.py)
