"""Intake: a referral becomes a stored patient and a started (or found) pathway.

The route is thin; this is the service behind it. Retries never create a second pathway: the pathway id is
derived from the referral, an Idempotency-Key replays the first answer, and a body reused under one key with
different content is refused before anything is stored. A replay of the referral never rewrites the stored
patient: the referral that started the pathway is kept as a hash, and a replay that differs from it is a
409 `referral-conflict` that changes nothing. The patient's consents in the referral are recorded only when
it registers the patient (source `referral`); they change later through `PATCH /v1/patients/{patient_ref}`.
A referral whose MRN is already registered at the clinic to a patient with another identity (names, birth
date) is a 409 `patient-identity-conflict`: it is never merged into that patient, and nothing is stored. The
request is checked (its clinic; an address for the patient's preferred channel, else 422
`contact-unreachable`) before its key is claimed, and a request that fails releases the key, so the corrected
retry can use it.
"""

import hashlib
from dataclasses import dataclass

import asyncpg
from temporalio.client import Client

from api.idempotency import request_hash, reused
from api.problems import Problem
from api.recent import Recent
from api.views import current_view, initial_view
from config.settings import Settings
from db import audit
from db.api_clients import ApiClient
from db.calendar import clinic_timezone
from db.clinic_policies import PolicyVersion, current_policy
from db.clinic_sites import patient_site
from db.consents import record_consents
from db.idempotency import forget_key, remember_key
from db.patients import register_patient
from db.referrals import remember_referral
from domain.consents import ConsentSource
from domain.contact import missing_address, unreachable_detail
from domain.identifiers import pathway_id_for
from domain.inputs import PathwayInput
from domain.policy import ClinicPolicy, default_policy, pathway_config
from domain.referral import Referral
from domain.view import PathwayView
from workflows.start import start_pathway

ROUTE = "referrals"


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
    timezones: Recent[str, str] | None = None,
) -> IntakeAnswer:
    """`timezones`: the clinics' time zones looked up a moment ago (api/recent.py), kept as they are found."""
    referral_hash = request_hash(referral)
    pathway_id = pathway_id_for(referral.source_system, referral.referral_id)
    timezone = timezones.get(referral.clinic_site) if timezones is not None else None
    if timezone is None:
        timezone = await clinic_timezone(pool, referral.clinic_site)
        if timezone is not None and timezones is not None:
            timezones.put(referral.clinic_site, timezone)
    if timezone is None:
        raise Problem(422, "unknown-clinic-site", "clinic_site names no clinic known to the orchestrator.")
    patient = referral.patient
    missing = missing_address(patient.preferred_channel, patient.phone, patient.email)
    if missing is not None:
        # As PATCH /v1/patients refuses it: a pathway that could not reach the patient by their channel.
        raise Problem(422, "contact-unreachable", unreachable_detail(missing))

    request = None  # this keyed request, as the referral remembers who stored it
    if idempotency_key is not None:
        request = hashlib.sha256(f"{client.client_id}|{idempotency_key}".encode()).hexdigest()
    defaults = default_policy(settings.relief_threshold, settings.profile)
    registered = await _register(
        pool, referral, referral_hash, pathway_id, client, idempotency_key, request, defaults
    )
    try:
        pathway = PathwayInput(
            patient_ref=registered.patient_ref,
            clinic_site=referral.clinic_site,
            clinic_timezone=timezone,
            patient_timezone=referral.patient.timezone,
            referral=referral.clinical(),
            config=pathway_config(registered.policy.policy, settings.profile),
            policy_version=registered.policy.version,
            webhook_events=True,
        )
        _, started = await start_pathway(temporal, pathway_id, pathway)
    except Exception:
        if registered.claimed_key:
            assert idempotency_key is not None
            await forget_key(pool, client.client_id, ROUTE, idempotency_key, referral_hash)
        raise
    # A retry of the key whose request stored the referral answers 201 as that request did; any other is 200.
    view = initial_view(pathway_id, pathway) if started else await current_view(temporal, pool, pathway_id)
    created = started or (request is not None and registered.stored_by == request)
    return IntakeAnswer(view=view, created=created)


@dataclass(frozen=True)
class _Registered:
    patient_ref: str
    stored_by: str | None
    """The keyed request that stored the referral."""
    policy: PolicyVersion
    """The clinic's current policy: the pathway keeps it (a replay finds the pathway, whatever it is now)."""
    claimed_key: bool
    """This request claimed its Idempotency-Key (and releases it if the pathway does not start)."""


async def _register(
    pool: asyncpg.Pool,
    referral: Referral,
    referral_hash: str,
    pathway_id: str,
    client: ApiClient,
    idempotency_key: str | None,
    request: str | None,
    defaults: ClinicPolicy,
) -> _Registered:
    """Claims the Idempotency-Key, stores the patient (unless known) and the referral, and reads the clinic's
    policy, in one transaction on one pool connection.

    A key used before with another body raises 422; a replay that differs from the stored referral, or a
    patient whose MRN is registered to another identity, raises 409. Each rolls back: nothing is written,
    and the key stays free for the corrected retry. Of two concurrent requests with one key, the second
    waits on the first's claim, so only one body goes on."""
    async with pool.acquire() as conn, conn.transaction():
        claimed = False
        if idempotency_key is not None:
            stored_key, claimed = await remember_key(
                conn, client.client_id, ROUTE, idempotency_key, referral_hash, pathway_id
            )
            if stored_key.request_hash != referral_hash:
                raise reused()
        registration = await register_patient(conn, referral.clinic_site, referral.patient)
        patient_ref = registration.patient_ref
        stored, first = await remember_referral(conn, pathway_id, referral_hash, patient_ref, request)
        if stored.referral_hash != referral_hash:
            # The pathway is named only to a key that reaches it: to one limited to other sites it is unknown.
            reachable = client.clinic_sites is None or (
                await patient_site(conn, stored.patient_ref) in client.clinic_sites
            )
            raise Problem(
                409,
                "referral-conflict",
                "This referral already started a pathway with other content; contact details change"
                " through PATCH /v1/patients/{patient_ref}.",
                extra={"pathway_id": pathway_id} if reachable else None,
            )
        if not registration.same_identity:
            # Never merged into the patient stored under the MRN: that pathway would message someone else.
            raise Problem(
                409,
                "patient-identity-conflict",
                "The patient's MRN is already registered at this clinic to a patient with another identity"
                " (given_name, family_name or birth_date); check the referral's patient.",
            )
        # Only the referral that registers the patient records its consents: as with contact details, a
        # later referral never overrides a decision made since (PATCH /v1/patients, the patient's own).
        consents = referral.patient.consents.decisions() if referral.patient.consents else {}
        if registration.new and consents:
            await record_consents(conn, patient_ref, consents, ConsentSource.REFERRAL)
        if first:
            detail: dict[str, object] = {
                "via": "POST /v1/referrals",
                "patient": "registered" if registration.new else "known",
            }
            if registration.new and consents:
                detail["consents"] = sorted(consents)
            await audit.record(
                conn,
                actor=client.name,
                action="patient.write",
                patient_ref=patient_ref,
                pathway_id=pathway_id,
                detail=detail,
            )
        policy = await current_policy(conn, referral.clinic_site, defaults)
        assert policy is not None  # the clinic is known (its time zone was found)
        return _Registered(stored.patient_ref, stored.first_request, policy, claimed)
