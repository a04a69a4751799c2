"""A clinic's policy: `GET` and `PUT /v1/clinics/{clinic_site}/policy`.

Each PUT replaces the whole policy (a field left out takes its default) and stores it as the clinic's next
`policy_version`, with an audit row; versions are never changed or removed. A pathway takes its clinic's
current policy when it starts and keeps it (api/intake.py).
"""

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel

from api.auth import require_scope
from api.dependencies import AppSettings, Pool
from api.problems import Problem, ProblemDetails, problem_responses
from api.site_access import Sites
from db import audit
from db.api_clients import ApiClient
from db.clinic_policies import PolicyVersion, current_policy, replace_policy
from domain.policy import ClinicPolicy, default_policy

router = APIRouter(tags=["clinics"])
Reader = Annotated[ApiClient, Depends(require_scope("pathways:read"))]
Admin = Annotated[ApiClient, Depends(require_scope("admin"))]
ClinicSite = Annotated[str, Path(description="The clinic's site, as in a referral's `clinic_site`")]

# Matched whole (`fullmatch`): `$` would let a final newline through, to the database.
_SITE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ProblemDetails, "description": "No clinic has this site (that the API key reaches)"}
}


class ClinicPolicyVersion(BaseModel):
    """A clinic's policy as stored: which version, since when, set by which API client."""

    clinic_site: str
    policy_version: int
    created_at: datetime
    created_by: str
    policy: ClinicPolicy


def _answer(stored: PolicyVersion) -> ClinicPolicyVersion:
    return ClinicPolicyVersion(
        clinic_site=stored.clinic_site,
        policy_version=stored.version,
        created_at=stored.created_at,
        created_by=stored.created_by,
        policy=stored.policy,
    )


def _unknown() -> Problem:
    return Problem(404, "clinic-not-found", "No clinic has this site.")


@router.get(
    "/v1/clinics/{clinic_site}/policy",
    summary="A clinic's current policy",
    responses={**problem_responses(401, 403, 503), **_NOT_FOUND},
)
async def get_policy(
    client: Reader, sites: Sites, pool: Pool, settings: AppSettings, clinic_site: ClinicSite
) -> ClinicPolicyVersion:
    if not _SITE.fullmatch(clinic_site) or not sites.allows(clinic_site):
        raise _unknown()
    async with pool.acquire() as conn:
        stored = await current_policy(conn, clinic_site, _defaults(settings))
    if stored is None:
        raise _unknown()
    return _answer(stored)


@router.put(
    "/v1/clinics/{clinic_site}/policy",
    summary="Replace a clinic's policy (a new policy_version)",
    description="A full replacement: a field left out takes its default. Pathways already started keep the"
    " policy they started with; pathways started from now on take this one.",
    responses={**problem_responses(401, 403, 422, 503), **_NOT_FOUND},
)
async def put_policy(
    client: Admin,
    sites: Sites,
    pool: Pool,
    settings: AppSettings,
    clinic_site: ClinicSite,
    body: ClinicPolicy,
) -> ClinicPolicyVersion:
    if not _SITE.fullmatch(clinic_site) or not sites.allows(clinic_site):
        raise _unknown()
    async with pool.acquire() as conn, conn.transaction():
        # The defaults become version 1 first, so a clinic's first PUT is its version 2, above the defaults
        # its earlier pathways may have started with.
        if await current_policy(conn, clinic_site, _defaults(settings)) is None:
            raise _unknown()
        stored = await replace_policy(conn, clinic_site, _filled(body, settings), client.name)
        assert stored is not None  # the clinic exists (above) and clinics are never removed
        await audit.record(
            conn,
            actor=client.name,
            action="clinic_policy.write",
            detail={
                "via": "PUT /v1/clinics/{clinic_site}/policy",
                "clinic_site": clinic_site,
                "policy_version": stored.version,
            },
        )
    return _answer(stored)


def _defaults(settings: AppSettings) -> ClinicPolicy:
    return default_policy(settings.relief_threshold, settings.profile)


def _filled(body: ClinicPolicy, settings: AppSettings) -> ClinicPolicy:
    """The PUT's policy with each field it left out at this deployment's default (its profile and relief
    threshold), not the model's: a demo clinic's PUT of one field must not bring the clinical quiet hours."""
    return _defaults(settings).model_copy(
        update={name: getattr(body, name) for name in body.model_fields_set}
    )
