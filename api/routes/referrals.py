"""`POST /v1/referrals`: store the patient, start (or find) the pathway."""

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from api.auth import require_scope
from api.dependencies import AppSettings, Pool, TemporalClient
from api.problems import Problem
from api.views import current_view, initial_view
from db import audit
from db.api_clients import ApiClient
from db.calendar import clinic_timezone
from db.idempotency import remember_key
from db.patients import upsert_patient
from domain.config import config_for
from domain.identifiers import pathway_id_for
from domain.inputs import PathwayInput
from domain.referral import Referral
from workflows.start import start_pathway

router = APIRouter(tags=["referrals"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", max_length=200, description="Retrying with the same key replays the answer"
    ),
]


@router.post(
    "/v1/referrals",
    status_code=201,
    summary="Start a pathway for a referral",
    responses={200: {"description": "The referral already has a pathway; it is returned"}},
)
async def create_referral(
    referral: Referral,
    pool: Pool,
    temporal: TemporalClient,
    settings: AppSettings,
    client: Annotated[ApiClient, Depends(require_scope("referrals:write"))],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    request_hash = hashlib.sha256(referral.model_dump_json().encode()).hexdigest()
    pathway_id = pathway_id_for(referral.source_system, referral.referral_id)
    key_seen = False
    if idempotency_key is not None:
        # Claimed before anything starts: of two concurrent requests with one key, only one body goes on.
        stored, claimed = await remember_key(
            pool, client.client_id, idempotency_key, request_hash, pathway_id
        )
        key_seen = not claimed
        if stored.request_hash != request_hash:
            raise Problem(
                422, "idempotency-key-reused", "This Idempotency-Key was used with a different body."
            )
    timezone = await clinic_timezone(pool, referral.clinic_site)
    if timezone is None:
        raise Problem(422, "unknown-clinic-site", "clinic_site names no clinic known to the orchestrator.")

    async with pool.acquire() as conn, conn.transaction():
        patient_ref = await upsert_patient(conn, referral.clinic_site, referral.patient)
        await audit.record(
            conn,
            actor=client.name,
            action="patient.write",
            patient_ref=patient_ref,
            pathway_id=pathway_id,
            detail={"via": "POST /v1/referrals"},
        )
    pathway = PathwayInput(
        patient_ref=patient_ref,
        clinic_site=referral.clinic_site,
        clinic_timezone=timezone,
        patient_timezone=referral.patient.timezone,
        referral=referral.clinical(),
        config=config_for(settings.profile, settings.relief_threshold),
    )
    handle, started = await start_pathway(temporal, pathway_id, pathway)
    # A replay of the same key answers as the first call did; the same referral under another key is 200.
    status = 201 if started or key_seen else 200
    body = initial_view(pathway_id, pathway) if started else await current_view(handle)
    return JSONResponse(body, status_code=status)
