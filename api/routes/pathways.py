"""Reading pathways: one by id, or a filtered page of them from Temporal's visibility store."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from temporalio.service import RPCError

from api import page_tokens
from api.auth import require_scope
from api.dependencies import PathwayHandle, Pool, TemporalClient
from api.outages import TEMPORAL_OUTAGES
from api.problems import Problem, problem_responses
from api.site_access import Sites
from api.temporal_errors import unavailable
from api.views import current_view, with_contact
from db import audit
from db.api_clients import ApiClient
from db.signing_secrets import signing_secret
from domain.stages import Stage
from domain.view import PathwayView
from workflows import search_attributes as sa

router = APIRouter(tags=["pathways"])
Reader = Annotated[ApiClient, Depends(require_scope("pathways:read"))]


class PathwaySummary(BaseModel):
    pathway_id: str
    stage: str | None
    outcome: str | None
    clinic_site: str | None
    needs_attention: bool | None
    next_action_due: datetime | None
    block_result: str | None
    started_at: datetime | None
    closed_at: datetime | None


class PathwayPage(BaseModel):
    items: list[PathwaySummary]
    next_page_token: str | None


@router.get(
    "/v1/pathways/{pathway_id}",
    summary="A pathway's view",
    responses=problem_responses(401, 403, 404, 503),
)
async def get_pathway(
    client: Reader, handle: PathwayHandle, temporal: TemporalClient, pool: Pool
) -> PathwayView:
    view = await with_contact(pool, await current_view(temporal, handle.id))
    await audit.record(
        pool, actor=client.name, action="pathway.read", pathway_id=handle.id, patient_ref=view.patient_ref
    )
    return view


@router.get(
    "/v1/pathways",
    summary="List pathways, newest first",
    responses=problem_responses(401, 403, 422, 503),
)
async def list_pathways(
    temporal: TemporalClient,
    client: Reader,
    sites: Sites,
    request: Request,
    stage: Stage | None = None,
    needs_attention: bool | None = None,
    clinic_site: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._:\-]{1,128}$")] = None,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    page_token: str | None = None,
) -> PathwayPage:
    clauses = ["WorkflowType = 'PatientPathway'"]
    if stage is not None:
        clauses.append(f"{sa.PATHWAY_STAGE.name} = '{stage.value}'")
    if needs_attention is not None:
        clauses.append(f"{sa.NEEDS_ATTENTION.name} = {'true' if needs_attention else 'false'}")
    if clinic_site is not None:
        clauses.append(f"{sa.CLINIC_SITE.name} = '{clinic_site}'")  # the pattern admits no quote
    if (limit := sites.visibility_clause()) is not None:
        clauses.append(limit)  # a page token is bound to the query, so it cannot lift the limit either
    query = " AND ".join(clauses)
    secret = await _page_token_secret(request)
    token = page_tokens.read(secret, query, page_token)
    executions = temporal.list_workflows(query, page_size=page_size, next_page_token=token)
    try:
        await executions.fetch_next_page(page_size=page_size)
    except RPCError as err:
        if err.status in TEMPORAL_OUTAGES:
            raise unavailable() from err
        if token is not None:
            raise Problem(422, "invalid-page-token", "page_token is not one this API issued.") from err
        raise
    page = executions.current_page or []
    items = [
        PathwaySummary(
            pathway_id=e.id,
            stage=e.typed_search_attributes.get(sa.PATHWAY_STAGE),
            outcome=e.typed_search_attributes.get(sa.PATHWAY_OUTCOME),
            clinic_site=e.typed_search_attributes.get(sa.CLINIC_SITE),
            needs_attention=e.typed_search_attributes.get(sa.NEEDS_ATTENTION),
            next_action_due=e.typed_search_attributes.get(sa.NEXT_ACTION_DUE),
            block_result=e.typed_search_attributes.get(sa.BLOCK_RESULT),
            started_at=e.start_time,
            closed_at=e.close_time,
        )
        for e in page
    ]
    return PathwayPage(
        items=items, next_page_token=page_tokens.issue(secret, query, executions.next_page_token)
    )


async def _page_token_secret(request: Request) -> bytes:
    """The page token secret, read from the database once per process."""
    state = request.app.state
    if getattr(state, "page_token_secret", None) is None:
        state.page_token_secret = await signing_secret(state.pool, "page_tokens")
    secret: bytes = state.page_token_secret
    return secret
