"""What the demo outbox page lists: the messages sent to patients, newest first, with the patient's name.

Only the demo profile's page reads this (api/routes/demo_outbox.py): its patients are made up, and a person
plays them from here.
"""

from dataclasses import dataclass
from datetime import datetime

from db.pool import Queryable


@dataclass(frozen=True)
class SentMessage:
    pathway_id: str
    patient_name: str
    template: str
    channel: str
    sent_at: datetime
    body: str


async def sent_to_patients(conn: Queryable, limit: int = 500) -> list[SentMessage]:
    rows = await conn.fetch(
        "select o.pathway_id, p.given_name || ' ' || p.family_name as patient_name, o.template, o.channel,"
        " o.sent_at, o.body from outbox o join patients p on p.patient_ref = o.patient_ref"
        " where o.recipient = 'patient' and o.status = 'sent' order by o.sent_at desc, o.id desc limit $1",
        limit,
    )
    return [SentMessage(**dict(row)) for row in rows]
