"""The notification outbox: one row per message, keyed so a retried send finds the row it made.

A row moves through these states; no transaction is held while a provider is called:

    pending ──claim (attempts + 1)──▶ sending ──provider accepted, claim still ours──▶ sent
    sending ──provider error, or unknown template──▶ pending (released, last_error set)
    sending whose claimed_until has passed (its sender crashed) ──claim──▶ sending (new token)
    sending ──no reachable channel (found while claiming)──▶ suppressed
    pending | sending | abandoned ──record_undelivered──▶ failed
    pending | sending with its claim lapsed, made before the last retry's bound ──sweep──▶ abandoned

`sent`, `suppressed` and `failed` are final; `abandoned` too, but for a workflow that gives the message up
late (its worker was down when the retries ran out), which marks it failed. An attempt that finds a claim
still holding sends nothing.

Beside the state, `unsettled_since` says whether an earlier attempt may have reached the provider without
anyone learning so: it is set, in the claiming transaction, before the provider is called (`begin_attempt`),
and cleared when the attempt's outcome is known (recorded, or released as surely not delivered). A crashed
attempt, or one whose connection broke after the request went out, leaves it set; the attempt that next
claims the row asks the provider for the message first (activities/notifications.py).

A sent SMS's `delivery_status` is what the gateway last reported; it only moves forward:
queued < sending < sent < delivered | undelivered | failed, the last three final (`record_delivery_status`).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from db.pool import Connection, Queryable
from domain.notifications import NotificationRequest


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    SUPPRESSED = "suppressed"
    FAILED = "failed"
    ABANDONED = "abandoned"


@dataclass(frozen=True)
class OutboxRow:
    id: int
    message_key: str
    status: OutboxStatus
    channel: str | None
    attempts: int
    claim_lapsed: bool
    """True unless a claim is held that has not reached its `claimed_until` yet."""
    unsettled_since: datetime | None
    """When an attempt whose outcome nobody learnt began; None when every attempt's outcome is known."""
    last_error: str | None = None
    """Why the last attempt failed, or why the message was suppressed."""


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
    """The row, locked until the (short) transaction ends, so two attempts at one message take turns."""
    row = await conn.fetchrow(
        "select id, message_key, status, channel, attempts,"
        " coalesce(claimed_until <= now(), true) as claim_lapsed, unsettled_since, last_error"
        " from outbox where message_key = $1 for update",
        key,
    )
    assert row is not None
    values = dict(row)
    return OutboxRow(**{**values, "status": OutboxStatus(values["status"])})


async def claim(conn: Connection, key: str, lease: timedelta) -> uuid.UUID:
    """Marks the row as being sent by the caller until `now() + lease`; returns the claim's token."""
    token = uuid.uuid4()
    await conn.execute(
        "update outbox set status = 'sending', claimed_until = now() + $2::interval, claim_token = $3,"
        " attempts = attempts + 1 where message_key = $1",
        key,
        lease,
        token,
    )
    return token


async def begin_attempt(conn: Connection, key: str) -> datetime | None:
    """Records, before the provider is called, that an attempt may reach it; returns when an earlier
    attempt whose outcome is unknown began (None: no such attempt, nothing to look up first)."""
    earlier: datetime | None = await conn.fetchval(
        "select unsettled_since from outbox where message_key = $1", key
    )
    await conn.execute(
        "update outbox set unsettled_since = coalesce(unsettled_since, now()) where message_key = $1", key
    )
    return earlier


async def release(
    conn: Queryable, key: str, token: uuid.UUID, error: str, *, outcome_unknown: bool = False
) -> bool:
    """Gives the claim up after a failed attempt: the row is pending again, for the retry. Unless
    `outcome_unknown` (the provider may have the message), no attempt so far delivered it. Does nothing
    (returns False) when the claim is no longer the caller's."""
    status = await conn.execute(
        "update outbox set status = 'pending', claimed_until = null, claim_token = null, last_error = $3,"
        " unsettled_since = case when $4 then unsettled_since end"
        " where message_key = $1 and claim_token = $2",
        key,
        token,
        error[:500],
        outcome_unknown,
    )
    return status == "UPDATE 1"


async def mark_sent(
    conn: Queryable,
    key: str,
    token: uuid.UUID,
    *,
    channel: str,
    address: str,
    body: str,
    provider_message_id: str,
) -> bool:
    """Records the delivery if the claim is still the caller's; returns whether it was recorded."""
    status = await conn.execute(
        "update outbox set status = 'sent', channel = $3, address = $4, body = $5, provider_message_id = $6,"
        " sent_at = now(), last_error = null, claimed_until = null, claim_token = null,"
        " unsettled_since = null"
        " where message_key = $1 and claim_token = $2",
        key,
        token,
        channel,
        address,
        body,
        provider_message_id,
    )
    return status == "UPDATE 1"


async def recorded_elsewhere(conn: Queryable, key: str, channel: str, address: str) -> frozenset[str]:
    """The provider ids recorded for the pathway's other messages to this address: a lookup for this one's
    (a message in doubt, activities/notifications.py) must not take one of them for its own. A diary's
    prompts read alike, and a link in them is the pathway's own, so the pathway's messages are the ones
    its lookup could confuse."""
    rows = await conn.fetch(
        "select o.provider_message_id from outbox o join outbox me on me.message_key = $1"
        " where o.pathway_id = me.pathway_id and o.message_key <> $1 and o.channel = $2 and o.address = $3"
        " and o.provider_message_id is not null",
        key,
        channel,
        address,
    )
    return frozenset(row["provider_message_id"] for row in rows)


async def may_be_anothers(conn: Queryable, key: str, provider_id: str) -> bool:
    """Whether `provider_id`, found by a lookup for this message, may be another message's of the pathway:
    recorded for one, or one to the same kind of recipient is being sent now (claimed, by an attempt that
    may reach the provider, whose id is recorded only once the provider answers). One statement, so one
    snapshot: the other message is claimed before its provider call and recorded after it, in one update."""
    return bool(
        await conn.fetchval(
            "select exists (select from outbox o join outbox me on me.message_key = $1"
            " where o.pathway_id = me.pathway_id and o.message_key <> $1"
            " and (o.provider_message_id = $2 or (o.status = 'sending' and o.recipient = me.recipient"
            " and o.claimed_until > now() and o.unsettled_since is not null)))",
            key,
            provider_id,
        )
    )


async def mark_suppressed(conn: Queryable, key: str, reason: str, *, channel: str | None = None) -> None:
    """Nothing is sent, now or later: no reachable channel, or the provider refused the address itself
    (`channel` then says which)."""
    await conn.execute(
        "update outbox set status = 'suppressed', last_error = $2, claimed_until = null, claim_token = null,"
        " unsettled_since = null, channel = coalesce($3, channel)"
        " where message_key = $1",
        key,
        reason[:500],
        channel,
    )


async def mark_failed(conn: Queryable, key: str, reason: str) -> OutboxStatus | None:
    """Gives the message up unless it already went out (or was suppressed); returns the row's status
    afterwards, None when there is no row."""
    status = await conn.fetchval(
        "with given_up as ("
        "  update outbox set status = 'failed', last_error = $2, claimed_until = null, claim_token = null,"
        "  unsettled_since = null"
        "  where message_key = $1 and status in ('pending', 'sending', 'abandoned') returning status"
        ") select status from given_up union all"
        " select status from outbox where message_key = $1 and not exists (select from given_up)",
        key,
        reason[:500],
    )
    return None if status is None else OutboxStatus(status)


async def abandon_unreachable(conn: Queryable, made_before: timedelta, reason: str) -> int:
    """Marks abandoned the messages no attempt can send any more: made more than `made_before` ago (past
    every retry's bound) and still pending, or being sent under a claim that has lapsed. Returns how many."""
    status = await conn.execute(
        "update outbox set status = 'abandoned', last_error = $2, claimed_until = null, claim_token = null"
        " where status in ('pending', 'sending') and created_at < now() - $1::interval"
        " and (status = 'pending' or claimed_until <= now())",
        made_before,
        reason[:500],
    )
    return int(status.split()[-1])


class DeliveryStatus(StrEnum):
    """An SMS gateway's delivery report, in the order a message goes through them."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"


# Each status's place; the three outcomes share the last one, so none of them replaces another.
_DELIVERY_ORDER = {
    DeliveryStatus.QUEUED: 1,
    DeliveryStatus.SENDING: 2,
    DeliveryStatus.SENT: 3,
    DeliveryStatus.DELIVERED: 4,
    DeliveryStatus.UNDELIVERED: 4,
    DeliveryStatus.FAILED: 4,
}


async def record_delivery_status(conn: Queryable, provider_message_id: str, status: DeliveryStatus) -> bool:
    """Moves a sent SMS's delivery status forward to `status`; a report older than (or as old as) the one
    recorded changes nothing, as does an id no SMS has. Returns whether the row changed."""
    order = _DELIVERY_ORDER[status]
    ranks = "case delivery_status " + " ".join(f"when '{s}' then {r}" for s, r in _DELIVERY_ORDER.items())
    result = await conn.execute(
        "update outbox set delivery_status = $2, delivery_status_at = now()"
        " where provider_message_id = $1 and channel = 'sms' and status = 'sent'"
        f" and coalesce({ranks} end, 0) < $3",
        provider_message_id,
        status.value,
        order,
    )
    return result == "UPDATE 1"


@dataclass(frozen=True)
class BouncedSms:
    """A patient's SMS whose recorded delivery status is a failure, with what sending it again needs."""

    message_key: str
    pathway_id: str
    patient_ref: str
    address: str
    template: str
    params: dict[str, str]


async def bounced_sms(conn: Queryable, provider_message_id: str) -> BouncedSms | None:
    """The patient's SMS with this gateway id, if the gateway's last recorded report on it is a failure;
    None for another id, a message to staff, or one recorded as delivered (a late failure report changes
    nothing: `record_delivery_status`)."""
    row = await conn.fetchrow(
        "select message_key, pathway_id, patient_ref::text as patient_ref, address, template, params"
        " from outbox where provider_message_id = $1 and channel = 'sms' and status = 'sent'"
        " and recipient = 'patient' and patient_ref is not null"
        " and delivery_status in ('undelivered', 'failed')",
        provider_message_id,
    )
    return BouncedSms(**dict(row)) if row else None
