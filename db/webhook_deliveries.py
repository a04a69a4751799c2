"""Webhook deliveries (migration 024): what the sender claims and settles, what the API lists and redelivers.

    pending ──claim (attempts + 1, held until now + lease)──▶ pending, under way
    under way ──2xx──▶ delivered
    under way ──anything else──▶ pending, due after the schedule's next delay; or failed, the schedule used up
    under way, its sender gone ──lease over──▶ claimed again (the same event id)
    failed | delivered ──redeliver──▶ pending, attempts 0, due now
    pending ──subscription deleted──▶ cancelled

A delivery is claimed only when no earlier delivery (smaller `event_seq`) of the same pathway to the same
subscription is still pending, so a receiver hears of each pathway's events in the order they happened,
however many senders run. A claim is one short transaction; none is held while the receiver is called.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import asyncpg

from db.pool import Queryable


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Claimed:
    """A delivery a sender holds until its lease ends, with all it needs to send it."""

    delivery_id: uuid.UUID
    attempts: int
    """This attempt's number (1 for the first)."""
    subscription_id: uuid.UUID
    url: str
    secret: str
    event_id: str
    event_type: str
    payload: dict[str, Any]


async def claim_due(
    conn: Queryable, *, limit: int, lease_seconds: float, skip: Sequence[uuid.UUID] = ()
) -> list[Claimed]:
    """Claims up to `limit` due deliveries, each the first pending one of its pathway for its subscription,
    none of the subscriptions in `skip` (those the sender already has enough attempts under way for)."""
    rows = await conn.fetch(
        "with due as ("
        "  select d.id from webhook_deliveries d"
        "  join webhook_subscriptions s on s.id = d.subscription_id and s.deleted_at is null"
        "  where d.status = 'pending' and d.next_attempt_at <= now()"
        "  and d.subscription_id <> all($3::uuid[])"
        "  and not exists (select 1 from webhook_deliveries earlier"
        "    where earlier.subscription_id = d.subscription_id and earlier.pathway_id = d.pathway_id"
        "    and earlier.status = 'pending' and earlier.event_seq < d.event_seq)"
        "  order by d.next_attempt_at, d.event_seq limit $1"
        "  for update of d skip locked"
        "), claimed as ("
        "  update webhook_deliveries d set attempts = d.attempts + 1, last_attempt_at = now(),"
        "  next_attempt_at = now() + make_interval(secs => $2)"
        "  from due where d.id = due.id and d.status = 'pending'"
        "  returning d.id, d.attempts, d.subscription_id, d.event_seq"
        ")"
        " select c.id, c.attempts, c.subscription_id, s.url, s.secret, e.event_id, e.event_type, e.payload"
        " from claimed c join webhook_events e on e.seq = c.event_seq"
        " join webhook_subscriptions s on s.id = c.subscription_id"
        " order by e.seq",
        limit,
        lease_seconds,
        list(skip),
    )
    return [
        Claimed(
            delivery_id=row["id"],
            attempts=row["attempts"],
            subscription_id=row["subscription_id"],
            url=row["url"],
            secret=row["secret"],
            event_id=row["event_id"],
            event_type=row["event_type"],
            payload=row["payload"],
        )
        for row in rows
    ]


async def mark_delivered(conn: Queryable, delivery_id: uuid.UUID, attempts: int, status_code: int) -> bool:
    """The receiver took attempt `attempts`. Recorded only while that attempt is the latest: an attempt that
    outlasted its lease, or a delivery redelivered since, is sent again rather than settled by a late answer
    (at least once). Returns whether it was recorded."""
    done = await conn.execute(
        "update webhook_deliveries set status = 'delivered', delivered_at = now(), last_status_code = $3,"
        " last_error = null where id = $1 and attempts = $2 and status = 'pending'",
        delivery_id,
        attempts,
        status_code,
    )
    return done.endswith(" 1")


async def mark_attempt_failed(
    conn: Queryable,
    delivery_id: uuid.UUID,
    attempts: int,
    *,
    status_code: int | None,
    error: str,
    retry_after_seconds: float | None,
) -> bool:
    """The attempt numbered `attempts` failed: due again after `retry_after_seconds`, or failed for good with
    None. Only while that attempt is the latest (a sender whose lease ran out and was claimed again since, or
    a cancelled delivery, is left alone). Returns whether it was recorded."""
    done = await conn.execute(
        "update webhook_deliveries set last_status_code = $3, last_error = $4,"
        " status = case when $5::float8 is null then 'failed' else 'pending' end,"
        " next_attempt_at = case when $5::float8 is null then next_attempt_at"
        "   else now() + make_interval(secs => $5::float8) end"
        " where id = $1 and attempts = $2 and status = 'pending'",
        delivery_id,
        attempts,
        status_code,
        error,
        retry_after_seconds,
    )
    return done.endswith(" 1")


async def cancel_orphans(conn: Queryable) -> int:
    """Cancels pending deliveries of deleted subscriptions (made by an event written as the subscription was
    being deleted)."""
    done = await conn.execute(
        "update webhook_deliveries d set status = 'cancelled' from webhook_subscriptions s"
        " where s.id = d.subscription_id and s.deleted_at is not null and d.status = 'pending'"
    )
    return int(done.rsplit(" ", 1)[1])


@dataclass(frozen=True)
class Delivery:
    """A delivery as `GET /v1/webhooks/{id}/deliveries` shows it."""

    delivery_id: uuid.UUID
    event_id: str
    event_type: str
    pathway_id: str
    status: DeliveryStatus
    attempts: int
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    """When it is due (pending only)."""
    delivered_at: datetime | None
    created_at: datetime
    event_seq: int
    """Where the event stands in the outbox's order."""


_DELIVERY = (
    "select d.id, d.event_seq, e.event_id, e.event_type, d.pathway_id, d.status, d.attempts,"
    " d.last_attempt_at, d.last_status_code, d.last_error, d.next_attempt_at, d.delivered_at, d.created_at"
    " from webhook_deliveries d join webhook_events e on e.seq = d.event_seq"
)


def _delivery(row: asyncpg.Record) -> Delivery:
    status = DeliveryStatus(row["status"])
    return Delivery(
        delivery_id=row["id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        pathway_id=row["pathway_id"],
        status=status,
        attempts=row["attempts"],
        last_attempt_at=row["last_attempt_at"],
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        next_attempt_at=row["next_attempt_at"] if status == DeliveryStatus.PENDING else None,
        delivered_at=row["delivered_at"],
        created_at=row["created_at"],
        event_seq=row["event_seq"],
    )


@dataclass(frozen=True)
class Cursor:
    """Where a page of deliveries ends: the last one's (created_at, event_seq); the next page starts after it.
    Deliveries made together (one transaction: the same `created_at`) are listed latest event first."""

    created_at: datetime
    event_seq: int

    def encode(self) -> bytes:
        return f"{self.created_at.isoformat()}|{self.event_seq}".encode()

    @staticmethod
    def decode(raw: bytes) -> "Cursor":
        """Raises ValueError for bytes that are not a cursor."""
        at, event_seq = raw.decode().split("|")  # UnicodeDecodeError is a ValueError too
        return Cursor(datetime.fromisoformat(at), int(event_seq))


async def page(
    conn: Queryable,
    subscription_id: uuid.UUID,
    *,
    status: DeliveryStatus | None,
    size: int,
    after: Cursor | None,
) -> tuple[list[Delivery], Cursor | None]:
    """A page of the subscription's deliveries, newest first, and the cursor of the next page (None: the
    last page)."""
    rows = await conn.fetch(
        f"{_DELIVERY} where d.subscription_id = $1 and ($2::text is null or d.status = $2)"
        " and ($3::timestamptz is null or (d.created_at, d.event_seq) < ($3, $4::bigint))"
        " order by d.created_at desc, d.event_seq desc limit $5",
        subscription_id,
        None if status is None else status.value,
        None if after is None else after.created_at,
        None if after is None else after.event_seq,
        size + 1,
    )
    found = [_delivery(row) for row in rows[:size]]
    more = len(rows) > size
    return found, Cursor(found[-1].created_at, found[-1].event_seq) if more else None


async def find(conn: Queryable, subscription_id: uuid.UUID, delivery_id: uuid.UUID) -> Delivery | None:
    row = await conn.fetchrow(
        f"{_DELIVERY} where d.subscription_id = $1 and d.id = $2", subscription_id, delivery_id
    )
    return None if row is None else _delivery(row)


async def redeliver(conn: Queryable, subscription_id: uuid.UUID, delivery_id: uuid.UUID) -> Delivery | None:
    """A failed or delivered delivery is pending again, attempts 0, due now; a pending or cancelled one is
    left as it is. The delivery as it is now (None: no such delivery of the subscription)."""
    await conn.execute(
        "update webhook_deliveries set status = 'pending', attempts = 0, next_attempt_at = now(),"
        " delivered_at = null"
        " where subscription_id = $1 and id = $2 and status in ('failed', 'delivered')",
        subscription_id,
        delivery_id,
    )
    return await find(conn, subscription_id, delivery_id)
