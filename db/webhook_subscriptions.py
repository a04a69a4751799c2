"""Webhook subscriptions (migration 024), made, read and deleted through `/v1/webhooks`
(api/routes/webhooks.py).

A subscription's secret is written once and read back only by the sender (db/webhook_deliveries.py); the
reads here never select it. A key limited to clinic sites reaches only subscriptions limited to some of its
sites (`reaches`), so what it may not reach reads as if it did not exist.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from db.pool import Queryable


@dataclass(frozen=True)
class Subscription:
    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str | None
    clinic_sites: list[str] | None
    created_at: datetime


_COLUMNS = "id, url, event_types, description, clinic_sites, created_at"


def _reaches(sites: frozenset[str] | None, first_param: int) -> tuple[str, list[object]]:
    """The clause that keeps a query to the subscriptions a key limited to `sites` reaches (None: all)."""
    if sites is None:
        return "", []
    return (
        f" and clinic_sites is not null and clinic_sites <@ ${first_param}::text[]",
        [sorted(sites)],
    )


def _subscription(row: asyncpg.Record) -> Subscription:
    return Subscription(
        id=row["id"],
        url=row["url"],
        event_types=list(row["event_types"]),
        description=row["description"],
        clinic_sites=None if row["clinic_sites"] is None else list(row["clinic_sites"]),
        created_at=row["created_at"],
    )


async def create(
    conn: Queryable,
    *,
    url: str,
    event_types: list[str],
    secret: str,
    clinic_sites: list[str] | None,
    description: str | None,
    created_by: str,
) -> Subscription:
    row = await conn.fetchrow(
        "insert into webhook_subscriptions"
        " (id, url, event_types, secret, clinic_sites, description, created_by)"
        f" values ($1, $2, $3, $4, $5, $6, $7) returning {_COLUMNS}",
        uuid.uuid4(),
        url,
        event_types,
        secret,
        clinic_sites,
        description,
        created_by,
    )
    assert row is not None
    return _subscription(row)


async def find(
    conn: Queryable, subscription_id: uuid.UUID, sites: frozenset[str] | None
) -> Subscription | None:
    """The subscription, if it exists, is not deleted and the key's sites reach it."""
    clause, args = _reaches(sites, 2)
    row = await conn.fetchrow(
        f"select {_COLUMNS} from webhook_subscriptions where id = $1 and deleted_at is null{clause}",
        subscription_id,
        *args,
    )
    return None if row is None else _subscription(row)


async def listed(conn: Queryable, sites: frozenset[str] | None) -> list[Subscription]:
    """The subscriptions not deleted that the key's sites reach, oldest first."""
    clause, args = _reaches(sites, 1)
    rows = await conn.fetch(
        f"select {_COLUMNS} from webhook_subscriptions where deleted_at is null{clause}"
        " order by created_at, id",
        *args,
    )
    return [_subscription(row) for row in rows]


@dataclass(frozen=True)
class Deleted:
    existed: bool
    """Whether the key reaches a subscription of this id, deleted now or before."""
    now: bool
    """Whether this call deleted it (False: it was deleted before)."""
    cancelled: int
    """The pending deliveries this call cancelled."""


async def delete(conn: Queryable, subscription_id: uuid.UUID, sites: frozenset[str] | None) -> Deleted:
    """Marks the subscription deleted and cancels its pending deliveries (run it in a transaction). A
    subscription deleted before is found again (`existed`), so a repeated delete answers as the first did."""
    clause, args = _reaches(sites, 2)
    row = await conn.fetchrow(
        f"select deleted_at is not null as deleted from webhook_subscriptions where id = $1{clause}"
        " for update",
        subscription_id,
        *args,
    )
    if row is None:
        return Deleted(existed=False, now=False, cancelled=0)
    if row["deleted"]:
        return Deleted(existed=True, now=False, cancelled=0)
    await conn.execute("update webhook_subscriptions set deleted_at = now() where id = $1", subscription_id)
    status = await conn.execute(
        "update webhook_deliveries set status = 'cancelled'"
        " where subscription_id = $1 and status = 'pending'",
        subscription_id,
    )
    return Deleted(existed=True, now=True, cancelled=int(status.rsplit(" ", 1)[1]))


async def with_secret(
    conn: Queryable, subscription_id: uuid.UUID, made_within_seconds: float | None = None
) -> tuple[Subscription, str] | None:
    """The subscription and its secret, for the answer to a create and to its retries only: None once it is
    deleted, or made longer ago than `made_within_seconds`."""
    row = await conn.fetchrow(
        f"select {_COLUMNS}, secret from webhook_subscriptions where id = $1 and deleted_at is null"
        " and ($2::float8 is null or created_at > now() - make_interval(secs => $2::float8))",
        subscription_id,
        made_within_seconds,
    )
    return None if row is None else (_subscription(row), str(row["secret"]))
