"""The webhook outbox (migration 024): pathway events, and a delivery for each subscription that wants one.

`record_events` is the whole write of a workflow task's events, in one transaction: each event with its
deliveries, and a notification that wakes the webhook sender at once instead of at its next poll.

A workflow task can be tried more than once (its worker died, or the server refused its completion) and
each try writes its events, under ids fixed by the pathway's run and each event's sequence number. The try
that completes is the one the pathway's history keeps, so its write is the truth: an id already written
takes this write's content (a pending delivery then sends that), and events past this write's last one,
written by a try that did not complete, are dropped, unless a receiver has already had them.
"""

import asyncpg

from domain.webhook_events import PathwayEvents

WAKE_CHANNEL = "webhook_deliveries"


async def record_events(pool: asyncpg.Pool, batch: PathwayEvents) -> int:
    """Writes the events and their deliveries; the number of deliveries made."""
    made = 0
    last = max(event.sequence for event in batch.events)
    async with pool.acquire() as conn, conn.transaction():
        # Serialises the writes of one pathway (a retried task's write may meet the first try's).
        await conn.execute("select pg_advisory_xact_lock(hashtext($1))", batch.pathway_id)
        await conn.execute(
            "delete from webhook_deliveries d using webhook_events e"
            " where d.event_seq = e.seq and e.pathway_id = $1 and e.sequence > $2"
            " and d.status <> 'delivered'",
            batch.pathway_id,
            last,
        )
        await conn.execute(
            "delete from webhook_events e where e.pathway_id = $1 and e.sequence > $2"
            " and not exists (select 1 from webhook_deliveries d where d.event_seq = e.seq)",
            batch.pathway_id,
            last,
        )
        for event in batch.events:
            payload = event.model_dump(mode="json")
            row = await conn.fetchrow(
                "insert into webhook_events"
                " (event_id, pathway_id, sequence, clinic_site, event_type, occurred_at, payload)"
                " values ($1, $2, $3, $4, $5, $6, $7)"
                " on conflict (event_id) do update set event_type = excluded.event_type,"
                " occurred_at = excluded.occurred_at, payload = excluded.payload"
                " where webhook_events.payload is distinct from excluded.payload"
                " returning seq",
                event.id,
                batch.pathway_id,
                event.sequence,
                batch.clinic_site,
                event.type.value,
                event.time,
                payload,
            )
            if row is None:
                continue  # written before, as it is now
            await conn.execute(
                "delete from webhook_deliveries where event_seq = $1 and status = 'pending'", row["seq"]
            )
            status = await conn.execute(
                "insert into webhook_deliveries (subscription_id, event_seq, pathway_id)"
                " select id, $1, $2 from webhook_subscriptions"
                " where deleted_at is null and $3 = any(event_types)"
                " and (clinic_sites is null or $4 = any(clinic_sites))"
                " on conflict (subscription_id, event_seq) do nothing",
                row["seq"],
                batch.pathway_id,
                event.type.value,
                batch.clinic_site,
            )
            made += int(status.rsplit(" ", 1)[1])
        if made:
            await conn.execute(f"notify {WAKE_CHANNEL}")
    return made
