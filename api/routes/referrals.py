"""`POST /v1/referrals`: start a pathway for a referral (the work is in api/intake.py)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from api.auth import require_scope
from api.dependencies import AppSettings, Pool, TemporalClient
from api.idempotency import IdempotencyKey
from api.intake import take_referral
from api.problems import Problem, problem_responses
from api.site_access import Sites
from db.api_clients import ApiClient
from domain.referral import Referral
from domain.view import PathwayView

router = APIRouter(tags=["referrals"])

_PROBLEMS = problem_responses(401, 403, 409, 422, 503)
_PROBLEMS[403] = {
    **_PROBLEMS[403],
    "description": "The API key lacks the scope, or is limited to other clinic sites than the referral's"
    " (`clinic-site-not-allowed`)",
}
_PROBLEMS[409] = {
    **_PROBLEMS[409],
    "description": "The referral already started a pathway with other content (`referral-conflict`), or its"
    " MRN is registered at the clinic to a patient with another identity (`patient-identity-conflict`)",
}


@router.post(
    "/v1/referrals",
    status_code=201,
    summary="Start a pathway for a referral",
    response_model=PathwayView,
    responses={
        201: {"description": "The pathway was started (or this Idempotency-Key started it): its view"},
        200: {"model": PathwayView, "description": "The referral already has a pathway: its view"},
        **_PROBLEMS,
    },
)
async def create_referral(
    referral: Referral,
    pool: Pool,
    temporal: TemporalClient,
    settings: AppSettings,
    client: Annotated[ApiClient, Depends(require_scope("referrals:write"))],
    sites: Sites,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    if not sites.allows(referral.clinic_site):
        # Before the site is looked up: the answer is the same whether another site exists or not.
        raise Problem(
            403,
            "clinic-site-not-allowed",
            "This API key may not start pathways at the referral's clinic_site.",
        )
    answer = await take_referral(
        referral,
        pool=pool,
        temporal=temporal,
        settings=settings,
        client=client,
        idempotency_key=idempotency_key,
        timezones=request.app.state.clinic_timezones,
    )
    return JSONResponse(answer.view.model_dump(mode="json"), status_code=201 if answer.created else 200)
