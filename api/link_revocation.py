"""Staff revoke a pathway's patient links, for a lost or shared phone: every link not yet revoked stops
working at once (its page answers 410 and takes no answer), and the next message that asks for an answer
carries a new one (`link_for_pathway` in db/patient_links.py makes one when none is left).

Only PostgreSQL is asked (the referral that started the pathway, its links, the audit), so a revocation works
while Temporal is down and for a pathway past its retention. The revocation and its audit row are one
transaction, and so are the key and the answer of a request with an `Idempotency-Key`: a retry, or a duplicate
sent at the same time (it waits for the first to commit), is answered with the first answer and revokes
nothing more, not even a link a message has made since. A message rendered while the revocation commits
may still carry the old link (it was chosen before): its page says so, and the next message has a new one.
"""

import asyncpg
from pydantic import BaseModel, Field

from api.idempotency import request_hash, reused
from api.problems import Problem
from db import audit
from db.api_clients import ApiClient
from db.idempotency import keep_answer, remember_key
from db.patient_links import revoke_links
from db.referrals import pathway_patient
from domain.results import StaffRequest

ROUTE = "revoke-links"
"""The route an Idempotency-Key is scoped to (with the API client)."""


class LinksRevoked(BaseModel):
    """The pathway's links that still worked no longer do."""

    pathway_id: str
    links_revoked: int = Field(ge=0, description="How many links this request revoked (0: none was left)")


async def revoke_pathway_links(
    pool: asyncpg.Pool,
    client: ApiClient,
    pathway_id: str,
    body: StaffRequest,
    idempotency_key: str | None,
) -> LinksRevoked:
    """Revokes every link of the pathway not yet revoked, audited; 404 for a pathway no referral started,
    422 for a key used before with another body or pathway."""
    body_hash = request_hash(body)
    async with pool.acquire() as conn, conn.transaction():
        patient_ref = await pathway_patient(conn, pathway_id)
        if patient_ref is None:
            raise Problem(404, "pathway-not-found", "No pathway has this id.")
        if idempotency_key is not None:
            stored, first = await remember_key(
                conn, client.client_id, ROUTE, idempotency_key, body_hash, pathway_id
            )
            if (stored.request_hash, stored.pathway_id) != (body_hash, pathway_id):
                raise reused()
            if not first:
                assert stored.answer is not None  # committed with the key, by the first request
                return LinksRevoked.model_validate(stored.answer)
        answer = LinksRevoked(pathway_id=pathway_id, links_revoked=await revoke_links(conn, pathway_id))
        if idempotency_key is not None:
            await keep_answer(
                conn, client.client_id, ROUTE, idempotency_key, body_hash, answer.model_dump(mode="json")
            )
        # Who (the client, and the staff member the body names) and how many; the row's time says when.
        await audit.record(
            conn,
            actor=client.name,
            action="patient_links.revoke",
            pathway_id=pathway_id,
            patient_ref=patient_ref,
            detail={"links_revoked": answer.links_revoked, "requested_by": body.requested_by},
        )
    return answer
