"""Reading pathways: one by id, or a filtered page of them from Temporal's visibility store
(api/visibility_page.py)."""

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from temporalio.service import RPCError

from api import page_tokens
from api.auth import require_scope
from api.dependencies import PathwayHandle, Pool, TemporalClient
from api.instants import Instant
from api.outages import TEMPORAL_OUTAGES
from api.problems import Problem, problem_responses
from api.site_access import Sites
from api.temporal_errors import unavailable
from api.views import current_view
from api.visibility_page import visibility_page
from db.api_clients import ApiClient
from db.contact_read import audited_contact
from db.signing_secrets import signing_secret
from domain.stages import Outcome, ReliefResult, Stage
from domain.view import PathwayView
from workflows import search_attributes as sa

router = APIRouter(tags=["pathways"])
Reader = Annotated[ApiClient, Depends(require_scope("pathways:read"))]


class ListedNextAction(BaseModel):
    """What the list knows of the step a pathway waits for: when it is due (the `NextActionDue` search
    attribute). Who takes it and what it is are in the pathway's view (`GET /v1/pathways/{id}`)."""

    due_at: datetime
    overdue: bool


class PathwaySummary(BaseModel):
    pathway_id: str
    patient_ref: str | None
    stage: str | None
    outcome: str | None
    clinic_site: str | None
    needs_attention: bool | None
    next_action: ListedNextAction | None
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
    view = await current_view(temporal, pool, handle.id)
    # The contact section and the read's audit row, in one statement (db/contact_read.py).
    contact = await audited_contact(
        pool, view.patient_ref, actor=client.name, action="pathway.read", pathway_id=handle.id
    )
    return view if contact is None else view.model_copy(update={"contact": contact})


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
    outcome: Outcome | None = None,
    block_result: ReliefResult | None = None,
    overdue: Annotated[
        Literal["true"] | None, Query(description="`true`: only pathways whose next action is past due")
    ] = None,
    started_after: Annotated[Instant | None, Query(description="RFC 3339 with an offset")] = None,
    started_before: Annotated[Instant | None, Query(description="RFC 3339 with an offset")] = None,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    page_token: str | None = None,
) -> PathwayPage:
    # An overdue listing compares with the instant of its first page; its page tokens carry that instant
    # (covered by their HMAC, since it is part of the query), so a walk sees one consistent listing.
    as_of, page_token = _split_as_of(page_token) if overdue else (None, page_token)
    now = as_of or datetime.now(UTC).replace(microsecond=0)
    clauses = ["WorkflowType = 'PatientPathway'"]
    if stage is not None:
        clauses.append(f"{sa.PATHWAY_STAGE.name} = '{stage.value}'")
    if needs_attention is not None:
        clauses.append(f"{sa.NEEDS_ATTENTION.name} = {'true' if needs_attention else 'false'}")
    if clinic_site is not None:
        clauses.append(f"{sa.CLINIC_SITE.name} = '{clinic_site}'")  # the pattern admits no quote
    # Enum values and formatted instants only: nothing the caller typed reaches the query as text.
    if outcome is not None:
        clauses.append(f"{sa.PATHWAY_OUTCOME.name} = '{outcome.value}'")
    if block_result is not None:
        clauses.append(f"{sa.BLOCK_RESULT.name} = '{block_result.value}'")
    if overdue:
        clauses.append(f"{sa.NEXT_ACTION_DUE.name} < '{_instant(now)}'")
    if started_after is not None:
        clauses.append(f"StartTime >= '{_given_instant('started_after', started_after)}'")
    if started_before is not None:
        clauses.append(f"StartTime < '{_given_instant('started_before', started_before)}'")
    if (limit := sites.visibility_clause()) is not None:
        clauses.append(limit)  # a page token is bound to the query, so it cannot lift the limit either
    query = " AND ".join(clauses)
    secret = await _page_token_secret(request)
    token = page_tokens.read(secret, query, page_token)
    try:
        page, next_page = await visibility_page(temporal, query, page_size, token)
    except RPCError as err:
        if err.status in TEMPORAL_OUTAGES:
            raise unavailable() from err
        if token is not None:
            raise Problem(422, "invalid-page-token", "page_token is not one this API issued.") from err
        raise
    items = [
        PathwaySummary(
            pathway_id=p.pathway_id,
            patient_ref=p.get(sa.PATIENT_REF),
            stage=p.get(sa.PATHWAY_STAGE),
            outcome=p.get(sa.PATHWAY_OUTCOME),
            clinic_site=p.get(sa.CLINIC_SITE),
            needs_attention=p.get(sa.NEEDS_ATTENTION),
            next_action=_next_action(p.get(sa.NEXT_ACTION_DUE), now),
            next_action_due=p.get(sa.NEXT_ACTION_DUE),
            block_result=p.get(sa.BLOCK_RESULT),
            started_at=p.started_at,
            closed_at=p.closed_at,
        )
        for p in page
    ]
    next_token = page_tokens.issue(secret, query, next_page)
    if overdue and next_token is not None:
        next_token = f"{int(now.timestamp())}.{next_token}"
    return PathwayPage(items=items, next_page_token=next_token)


_AS_OF = re.compile(r"([0-9]{1,12})\.(.+)")


def _split_as_of(page_token: str | None) -> tuple[datetime | None, str | None]:
    """The instant an overdue listing's token carries, and the token proper. A token without one (or
    one not issued for an overdue listing) is left whole, and fails its HMAC check; so does one whose
    instant no datetime can hold (twelve digits reach the year 33658), which this API never issued."""
    if page_token is None or (match := _AS_OF.fullmatch(page_token)) is None:
        return None, page_token
    try:
        return datetime.fromtimestamp(int(match.group(1)), UTC), match.group(2)
    except (ValueError, OverflowError, OSError):
        return None, page_token


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _given_instant(name: str, moment: datetime) -> str:
    try:
        return _instant(moment)
    except OverflowError as err:  # 0001-01-01T00:00:00+01:00 is before the first instant UTC can name
        raise Problem(422, "invalid-instant", f"{name} is out of range.") from err


def _next_action(due_at: datetime | None, now: datetime) -> ListedNextAction | None:
    return None if due_at is None else ListedNextAction(due_at=due_at, overdue=due_at < now)


async def _page_token_secret(request: Request) -> bytes:
    """The page token secret, read from the database once per process."""
    state = request.app.state
    if getattr(state, "page_token_secret", None) is None:
        state.page_token_secret = await signing_secret(state.pool, "page_tokens")
    secret: bytes = state.page_token_secret
    return secret
