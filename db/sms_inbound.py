"""The texts received from the SMS gateway, one row per `MessageSid`, so a redelivered webhook counts once.

No body is kept (a reply may be PHI): only when it arrived, whose it was when one patient's, and what was
done with it. A row without an outcome was received but not finished (the API stopped, Temporal was down): its
redelivery is handled again, at the first arrival's time.
"""

from dataclasses import dataclass
from datetime import datetime

from db.pool import Queryable


@dataclass(frozen=True)
class Received:
    received_at: datetime
    outcome: str | None
    """None until handled."""


async def receive(conn: Queryable, message_sid: str, at: datetime) -> Received:
    """The text's row: made now with `at`, or the one a first delivery made."""
    await conn.execute(
        "insert into sms_inbound (message_sid, received_at) values ($1, $2) on conflict do nothing",
        message_sid,
        at,
    )
    row = await conn.fetchrow(
        "select received_at, outcome from sms_inbound where message_sid = $1", message_sid
    )
    assert row is not None  # inserted above, or by the first delivery; never deleted
    return Received(row["received_at"], row["outcome"])


async def settle(conn: Queryable, message_sid: str, outcome: str, patient_ref: str | None) -> None:
    await conn.execute(
        "update sms_inbound set outcome = $2, patient_ref = $3 where message_sid = $1",
        message_sid,
        outcome,
        patient_ref,
    )


async def helped_since_last_message(conn: Queryable, patient_ref: str, message_sid: str) -> bool:
    """Whether the patient already got an automatic help reply (to a text other than `message_sid`) since our
    latest message to them: one such reply per message we send, so a chatty sender (or an auto-responder) is
    not answered in a loop."""
    helped: bool = await conn.fetchval(
        "select exists (select 1 from sms_inbound i where i.patient_ref = $1 and i.message_sid <> $2"
        " and i.outcome in ('score_please', 'answer_with_link', 'nothing_open')"
        " and i.received_at >= coalesce((select max(o.created_at) from outbox o where o.patient_ref = $1),"
        " '-infinity'))",
        patient_ref,
        message_sid,
    )
    return helped
