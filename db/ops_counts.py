"""What the operations gauges count in PostgreSQL: the clinics, the outbox's unfinished messages, and the
webhook deliveries still to go or given up on."""

from dataclasses import dataclass

from db.outbox import OutboxStatus
from db.pool import Queryable
from db.webhook_deliveries import DeliveryStatus

UNFINISHED = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED, OutboxStatus.ABANDONED)
"""The outbox states counted: messages still to go out, those given up on, and those their workflow went
on without (workers/outbox_sweep.py). Sent and suppressed rows are the bulk of the table and nobody's
concern, so they are not counted."""


@dataclass(frozen=True)
class OutboxCounts:
    by_status: dict[OutboxStatus, int]
    oldest_unsent_age_seconds: float
    """How long the oldest pending or sending message has waited; 0 with none."""


async def clinic_sites(conn: Queryable, *, timeout: float) -> list[str]:
    rows = await conn.fetch("select site from clinics order by site", timeout=timeout)
    return [str(row["site"]) for row in rows]


async def outbox_counts(conn: Queryable, *, timeout: float) -> OutboxCounts:
    """One statement, on the partial index `outbox_unfinished`."""
    rows = await conn.fetch(
        "select status, count(*) as n,"
        " coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as oldest"
        " from outbox where status in ('pending', 'sending', 'failed', 'abandoned') group by status",
        timeout=timeout,
    )
    found = {OutboxStatus(row["status"]): row for row in rows}
    unsent = [found[s]["oldest"] for s in (OutboxStatus.PENDING, OutboxStatus.SENDING) if s in found]
    return OutboxCounts(
        by_status={status: int(found[status]["n"]) if status in found else 0 for status in UNFINISHED},
        oldest_unsent_age_seconds=max(unsent, default=0.0),
    )


WEBHOOK_UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
"""Webhook deliveries still to go out, and those given up on (until redelivered); delivered and cancelled ones
are the bulk of the table and nobody's concern."""


async def webhook_delivery_counts(conn: Queryable, *, timeout: float) -> dict[DeliveryStatus, int]:
    """One statement (the pending ones are read from the partial index `webhook_deliveries_due`)."""
    rows = await conn.fetch(
        "select status, count(*) as n from webhook_deliveries where status in ('pending', 'failed')"
        " group by status",
        timeout=timeout,
    )
    found = {DeliveryStatus(row["status"]): int(row["n"]) for row in rows}
    return {status: found.get(status, 0) for status in WEBHOOK_UNFINISHED}
