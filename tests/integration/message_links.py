"""The patients' links in the messages the pathways sent, read from the outbox as the patient got them."""

import asyncio
import re
from datetime import datetime, timedelta

import asyncpg

from activities.messages import ANSWER_TEMPLATES
from db.patient_links import SECRET_PURPOSE, link_for_pathway
from db.signing_secrets import signing_secret
from domain.link_tokens import seal

LINK = re.compile(r"https?://\S+?/p/[A-Za-z0-9_-]{43}")


def _link_in(body: str) -> str:
    found = LINK.search(body)
    assert found, body
    return found.group()


async def message_link(pool: asyncpg.Pool, pathway_id: str, template: str) -> str:
    """The link in the latest `template` message sent on the pathway (bounded polling)."""
    for _ in range(200):
        body = await pool.fetchval(
            "select body from outbox where pathway_id = $1 and template = $2 and status = 'sent'"
            " order by sent_at desc limit 1",
            pathway_id,
            template,
        )
        if body is not None:
            return _link_in(body)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {template} message was sent")


async def first_link_made_after(pool: asyncpg.Pool, pathway_id: str, since: datetime) -> str:
    """The link in the first message asking the patient for an answer that was rendered after `since` (bounded
    polling). A message's row is made in the transaction that renders it, so its `created_at` (the start of
    that transaction) after `since` means its link was chosen after `since`."""
    for _ in range(300):
        body = await pool.fetchval(
            "select body from outbox where pathway_id = $1 and recipient = 'patient'"
            " and template = any($2::text[]) and created_at > $3 and status = 'sent'"
            " order by created_at limit 1",
            pathway_id,
            sorted(ANSWER_TEMPLATES),
            since,
        )
        if body is not None:
            return _link_in(body)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no message asking for an answer was rendered after {since}")


async def new_link(pool: asyncpg.Pool, served_api: str, pathway_id: str, patient_ref: str) -> str:
    """The link a message would carry now (the pathway's newest working one, else a new one)."""
    link_id, expires_at = await link_for_pathway(pool, pathway_id, patient_ref, timedelta(days=30))
    return f"{served_api}/p/{seal(await signing_secret(pool, SECRET_PURPOSE), link_id, expires_at)}"
