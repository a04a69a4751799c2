"""The notification outbox: one row per message, keyed so a retried send finds the row it made."""

from dataclasses import dataclass

from db.pool import Connection, Queryable
from domain.notifications import NotificationRequest


@dataclass(frozen=True)
class OutboxRow:
    id: int
    message_key: str
    status: str
    channel: str | None
    attempts: int


async def ensure_row(conn: Queryable, request: NotificationRequest) -> None:
    await conn.execute(
        "insert into outbox (message_key, pathway_id, recipient, patient_ref, template, params)"
        " values ($1, $2, $3, $4, $5, $6) on conflict (message_key) do nothing",
        request.key,
        request.pathway_id,
        request.recipient,
        request.patient_ref,
        request.template,
        request.params,
    )


async def lock_row(conn: Connection, key: str) -> OutboxRow:
    """The row, locked until the transaction ends, so two attempts at one message take turns."""
    row = await conn.fetchrow(
        "select id, message_key, status, channel, attempts from outbox where message_key = $1 for update", key
    )
    assert row is not None
    return OutboxRow(**dict(row))


async def mark_sent(
    conn: Connection, key: str, *, channel: str, address: str, body: str, provider_message_id: str
) -> None:
    await conn.execute(
        "update outbox set status = 'sent', channel = $2, address = $3, body = $4, provider_message_id = $5,"
        " attempts = attempts + 1, sent_at = now(), last_error = null where message_key = $1",
        key,
        channel,
        address,
        body,
        provider_message_id,
    )


async def mark_suppressed(conn: Connection, key: str, reason: str) -> None:
    await conn.execute(
        "update outbox set status = 'suppressed', last_error = $2 where message_key = $1", key, reason
    )


async def note_failure(conn: Queryable, key: str, error: str) -> None:
    await conn.execute(
        "update outbox set attempts = attempts + 1, last_error = $2 where message_key = $1", key, error[:500]
    )
