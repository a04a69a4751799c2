"""Intake: a referral becomes a stored patient and a started (or found) pathway.

The route is thin; this is the service behind it. Retries never create a second pathway: the pathway id is
derived from the referral, an Idempotency-Key replays the first answer, and a body reused under one key with
different content is refused before anything is stored.
"""

import hashlib
from dataclasses import dataclass

import asyncpg
from temporalio.client import Client

from api.problems import Problem
from api.views import current_view, initial_view
from config.settings import Settings
from db import audit
from db.api_clients import ApiClient
from db.calendar import clinic_timezone
from db.idempotency import remember_key
from db.patients import upsert_patient
from domain.config import config_for
from domain.identifiers import pathway_id_for
from domain.inputs import PathwayInput
from domain.referral import Referral
from domain.view import PathwayView
from workflows.start import start_pathway


@dataclass(frozen=True)
class IntakeAnswer:
    view: PathwayView
    created: bool
    """True when this request (or the first with its Idempotency-Key) started the pathway."""


async def take_referral(
    referral: Referral,
    *,
    pool: asyncpg.Pool,
    temporal: Client,
    settings: Settings,
    client: ApiClient,
    idempotency_key: str | None,
) -> IntakeAnswer:
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
    _, started = await start_pathway(temporal, pathway_id, pathway)
    # A replay of the same key answers as the first call did; the same referral under another key is 200.
    view = initial_view(pathway_id, pathway) if started else await current_view(temporal, pathway_id)
    return IntakeAnswer(view=view, created=started or key_seen)
