"""The webhook outbox (migration 024): pathway events, and a delivery for each subscription that wants one.

`record_events` is the whole write of a workflow task's events: the events and their deliveries in one
transaction, an event already written adding nothing (a retried write), and a notification that wakes the
webhook sender (delivery/webhook_sender.py) at once instead of at its next poll.
"""

import asyncpg

from domain.webhook_events import PathwayEvents

WAKE_CHANNEL = "webhook_deliveries"


async def record_events(pool: asyncpg.Pool, batch: PathwayEvents) -> int:
    """Writes the events and their deliveries; the number of deliveries made."""
    made = 0
    async with pool.acquire() as conn, conn.transaction():
        for event in batch.events:
            seq = await conn.fetchval(
                "insert into webhook_events"
                " (event_id, pathway_id, clinic_site, event_type, occurred_at, payload)"
                " values ($1, $2, $3, $4, $5, $6) on conflict (event_id) do nothing returning seq",
                event.id,
                batch.pathway_id,
                batch.clinic_site,
                event.type.value,
                event.time,
                event.model_dump(mode="json"),
            )
            if seq is None:
                continue  # written by an earlier try of this write
            status = await conn.execute(
                "insert into webhook_deliveries (subscription_id, event_seq, pathway_id)"
                " select id, $1, $2 from webhook_subscriptions"
                " where deleted_at is null and $3 = any(event_types)"
                " and (clinic_sites is null or $4 = any(clinic_sites))",
                seq,
                batch.pathway_id,
                event.type.value,
                batch.clinic_site,
            )
            made += int(status.rsplit(" ", 1)[1])
        if made:
            await conn.execute(f"notify {WAKE_CHANNEL}")
    return made
