"""Patients' links (migration 013): which pathway each reaches, until when, whether revoked; and the answers
sent from the link page, one row per rendered form.

The token is never stored: it is a link's id and expiry sealed with the `patient_links` secret
(domain/link_tokens.py), so it can be made again from the row when a message is sent.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from db.pool import Queryable

SECRET_PURPOSE = "patient_links"


@dataclass(frozen=True)
class Link:
    link_id: uuid.UUID
    pathway_id: str
    patient_ref: str
    expires_at: datetime
    revoked_at: datetime | None
    preferred_language: str
    timezone: str
    """The patient's language and time zone, for the page (no other PHI is read)."""


async def link_for_pathway(
    conn: Queryable, pathway_id: str, patient_ref: str, lifetime: timedelta
) -> tuple[uuid.UUID, datetime]:
    """(link id, expiry) of the pathway's link to put in a message: the newest one not revoked that has at
    least half its lifetime left (so every message's link stays good for a while), else a new one."""
    row = await conn.fetchrow(
        "select link_id, expires_at from patient_links"
        " where pathway_id = $1 and revoked_at is null and expires_at > now() + $2::interval"
        " order by expires_at desc limit 1",
        pathway_id,
        lifetime / 2,
    )
    if row is not None:
        return row["link_id"], row["expires_at"]
    link_id = uuid.uuid4()
    # To the second: the token carries the expiry in whole seconds.
    expires_at: datetime = await conn.fetchval(
        "insert into patient_links (link_id, pathway_id, patient_ref, expires_at)"
        " values ($1, $2, $3, date_trunc('second', now() + $4::interval)) returning expires_at",
        link_id,
        pathway_id,
        uuid.UUID(patient_ref),
        lifetime,
    )
    return link_id, expires_at


async def find_link(conn: Queryable, link_id: uuid.UUID) -> Link | None:
    row = await conn.fetchrow(
        "select l.link_id, l.pathway_id, l.patient_ref::text as patient_ref, l.expires_at, l.revoked_at,"
        " p.preferred_language, p.timezone"
        " from patient_links l join patients p on p.patient_ref = l.patient_ref"
        " where l.link_id = $1",
        link_id,
    )
    return Link(**dict(row)) if row else None


async def revoke_links(conn: Queryable, pathway_id: str, link_id: uuid.UUID | None = None) -> int:
    """Revokes the pathway's links (or the one named); returns how many it revoked."""
    status = await conn.execute(
        "update patient_links set revoked_at = now()"
        " where pathway_id = $1 and ($2::uuid is null or link_id = $2) and revoked_at is null",
        pathway_id,
        link_id,
    )
    return int(status.split()[-1])


@dataclass(frozen=True)
class Answer:
    answer_id: uuid.UUID
    question: str
    workflow_id: str
    red_flags: bool
    recorded: bool
    content_hash: str | None = None
    """What the form's answers said when it was first sent (None before migration 027)."""


async def claim_answer(
    conn: Queryable,
    answer_id: uuid.UUID,
    link_id: uuid.UUID,
    *,
    question: str,
    workflow_id: str,
    red_flags: bool,
    content_hash: str | None = None,
) -> Answer | None:
    """Claims the form's answer for sending; None when this form was sent before (see `find_answer`)."""
    claimed = await conn.fetchval(
        "insert into patient_link_answers"
        " (answer_id, link_id, question, workflow_id, red_flags, content_hash)"
        " values ($1, $2, $3, $4, $5, $6) on conflict (answer_id) do nothing returning answer_id",
        answer_id,
        link_id,
        question,
        workflow_id,
        red_flags,
        content_hash,
    )
    if claimed is None:
        return None
    return Answer(answer_id, question, workflow_id, red_flags, recorded=False, content_hash=content_hash)


async def find_answer(conn: Queryable, answer_id: uuid.UUID, link_id: uuid.UUID) -> Answer | None:
    """The answer sent with this form from this link (another link's is not found)."""
    row = await conn.fetchrow(
        "select answer_id, question, workflow_id, red_flags, recorded_at is not null as recorded,"
        " content_hash from patient_link_answers where answer_id = $1 and link_id = $2",
        answer_id,
        link_id,
    )
    return Answer(**dict(row)) if row else None


async def answer_recorded(conn: Queryable, answer_id: uuid.UUID, link_id: uuid.UUID) -> bool:
    """Marks the answer this link claimed recorded; False when a concurrent submit of the same form marked it
    first, or when the id is another link's (a crafted form: that link's answer is not touched)."""
    status = await conn.execute(
        "update patient_link_answers set recorded_at = now()"
        " where answer_id = $1 and link_id = $2 and recorded_at is null",
        answer_id,
        link_id,
    )
    return bool(status == "UPDATE 1")


async def release_answer(conn: Queryable, answer_id: uuid.UUID, link_id: uuid.UUID) -> None:
    """Forgets an answer this link claimed that the pathway refused, so the form can be corrected and sent
    again."""
    await conn.execute(
        "delete from patient_link_answers where answer_id = $1 and link_id = $2 and recorded_at is null",
        answer_id,
        link_id,
    )
