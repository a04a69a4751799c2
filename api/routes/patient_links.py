"""`POST /v1/pathways/{pathway_id}/revoke-links`: staff revoke the pathway's patient links (the work is in
api/link_revocation.py)."""

from typing import Annotated

from fastapi import APIRouter, Depends

from api.auth import require_scope
from api.dependencies import PathwayHandle, Pool
from api.idempotency import IdempotencyKey
from api.link_revocation import LinksRevoked, revoke_pathway_links
from api.problems import problem_responses
from db.api_clients import ApiClient
from domain.results import StaffRequest

router = APIRouter(tags=["patient links"])
Staff = Annotated[ApiClient, Depends(require_scope("staff:write"))]


@router.post(
    "/v1/pathways/{pathway_id}/revoke-links",
    summary="Staff: revoke the pathway's patient links (a lost or shared phone)",
    description="Every link of the pathway still working stops at once; the next message that asks the"
    " patient for an answer carries a new one. A retry with the same Idempotency-Key answers as the first"
    " request did and revokes nothing more.",
    responses={
        200: {"description": "How many links this request revoked (a retry with its key: the first answer)"},
        **problem_responses(401, 403, 404, 422, 503),
    },
)
async def revoke_patient_links(
    client: Staff,
    body: StaffRequest,
    handle: PathwayHandle,  # a malformed id is 404 before anything is read
    pool: Pool,
    idempotency_key: IdempotencyKey = None,
) -> LinksRevoked:
    return await revoke_pathway_links(pool, client, handle.id, body, idempotency_key)
