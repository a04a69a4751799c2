"""`POST /v1/patients/search`: staff find a patient's pathways by the clinic's MRN. The MRN travels in the
body, so it never lands in an access log; the answer, the audit row and the logs never repeat it. An MRN
unknown at the clinic, or at a clinic the API key does not reach, answers 200 with no pathways, as a patient
without any would: the answer tells nothing more about who is registered. Each search writes an audit row
(the patient_ref when one was found, never the MRN).

`PATCH /v1/patients/{patient_ref}`: the one way contact details and consents change once a patient is
registered.

A referral never rewrites them (api/intake.py). The answer confirms which fields changed and when, without
echoing them: the caller sent them, and an answer, a log line or an audit row holding PHI would be one more
copy of it. The change and its audit row are written in one transaction. Consents named in `consents` are
recorded as new decisions (source `api`, at the transaction's time; domain/consents.py): the latest is in
force, whatever a referral said. They are listed in `changed` as `consents.<category>`.

The contact that results (the stored one with the change) must keep an address for the preferred channel: a
phone for sms, an e-mail for email. A change that would leave none answers 422 `contact-unreachable` and
changes nothing. The stored row is read locked and changed in the same transaction, so two changes that are
each fine alone cannot together leave the patient unreachable.
"""

import re
from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel
from temporalio.service import RPCError

from api.auth import require_scope
from api.dependencies import Pool, TemporalClient
from api.outages import TEMPORAL_OUTAGES
from api.problems import Problem, ProblemDetails, problem_responses
from api.site_access import Sites
from api.temporal_errors import unavailable
from db import audit
from db.api_clients import ApiClient
from db.consents import record_consents
from db.patients import change_contact, lock_contact, patient_by_mrn
from db.referrals import patient_pathways
from domain.consents import ConsentSource
from domain.contact import ContactChange, missing_address, unreachable_detail
from domain.contract import ContractModel
from domain.referral import Identifier
from domain.stages import PathwayStatus, Stage
from workflows import search_attributes as sa

router = APIRouter(tags=["patients"])
ContactWriter = Annotated[ApiClient, Depends(require_scope("patients:write"))]
PatientReader = Annotated[ApiClient, Depends(require_scope("patients:read"))]

# Matched whole (`fullmatch`): `$` would let a final newline through, to fail in the database as a 500.
_PATIENT_REF = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class ContactChanged(BaseModel):
    """The contact details and consents named in the request are stored (their values are not repeated
    here)."""

    patient_ref: str
    changed: list[str]
    updated_at: datetime


class PatientSearch(ContractModel):
    clinic_site: Identifier
    mrn: Identifier


class PatientPathway(BaseModel):
    pathway_id: str
    patient_ref: str
    stage: Stage | None
    """None while Temporal's visibility store has not yet caught up with a pathway just started."""
    status: PathwayStatus | None
    outcome: str | None


class PatientPathways(BaseModel):
    pathways: list[PatientPathway]


@router.post(
    "/v1/patients/search",
    summary="Find a patient's pathways by the clinic's MRN",
    responses=problem_responses(401, 403, 422, 503),
)
async def search_patient(
    client: PatientReader, sites: Sites, body: PatientSearch, pool: Pool, temporal: TemporalClient
) -> PatientPathways:
    patient_ref: str | None = None
    pathway_ids: list[str] = []
    async with pool.acquire() as conn:
        if sites.allows(body.clinic_site):
            patient_ref = await patient_by_mrn(conn, body.clinic_site, body.mrn)
        if patient_ref is not None:
            pathway_ids = await patient_pathways(conn, patient_ref)
        await audit.record(
            conn,
            actor=client.name,
            action="patient.search",
            patient_ref=patient_ref,
            detail={"via": "POST /v1/patients/search", "pathways": len(pathway_ids)},
        )
    if patient_ref is None:
        return PatientPathways(pathways=[])
    listed = await _listed(temporal, patient_ref)
    return PatientPathways(
        pathways=[
            _patient_pathway(pathway_id, patient_ref, listed.get(pathway_id)) for pathway_id in pathway_ids
        ]
    )


async def _listed(temporal: TemporalClient, patient_ref: str) -> dict[str, tuple[str | None, str | None]]:
    """Stage and outcome of the patient's pathways, by id, from Temporal's visibility store."""
    # patient_ref is a uuid read from the database, so the query holds no caller text.
    query = f"WorkflowType = 'PatientPathway' AND {sa.PATIENT_REF.name} = '{patient_ref}'"
    listed: dict[str, tuple[str | None, str | None]] = {}
    try:
        async for execution in temporal.list_workflows(query, limit=1000):
            attributes = execution.typed_search_attributes
            listed[execution.id] = (attributes.get(sa.PATHWAY_STAGE), attributes.get(sa.PATHWAY_OUTCOME))
    except RPCError as err:
        if err.status in TEMPORAL_OUTAGES:
            raise unavailable() from err
        raise
    return listed


def _patient_pathway(
    pathway_id: str, patient_ref: str, listed: tuple[str | None, str | None] | None
) -> PatientPathway:
    stage_value, outcome = listed or (None, None)
    stage = Stage(stage_value) if stage_value in set(Stage) else None
    status = (
        None
        if stage is None
        else PathwayStatus.COMPLETED
        if stage is Stage.COMPLETED
        else PathwayStatus.CLOSED
        if stage is Stage.CLOSED
        else PathwayStatus.ACTIVE
    )
    return PatientPathway(
        pathway_id=pathway_id, patient_ref=patient_ref, stage=stage, status=status, outcome=outcome
    )


def _unknown() -> Problem:
    return Problem(404, "patient-not-found", "No patient has this ref.")


@router.patch(
    "/v1/patients/{patient_ref}",
    summary="Change a patient's contact details or consents",
    responses={
        **problem_responses(401, 403, 503),
        422: {
            "model": ProblemDetails,
            "description": "The request does not match the contract, or the change would leave the preferred"
            " channel without an address (`contact-unreachable`)",
        },
        404: {"model": ProblemDetails, "description": "No patient has this ref (that the API key reaches)"},
    },
)
async def change_patient_contact(
    client: ContactWriter,
    sites: Sites,
    body: ContactChange,
    pool: Pool,
    patient_ref: Annotated[str, Path(description="The patient's opaque ref, as in the pathway view")],
) -> ContactChanged:
    if not _PATIENT_REF.fullmatch(patient_ref):
        raise _unknown()
    changes, consents = body.changes(), body.consent_decisions()
    changed = [*changes, *(f"consents.{category}" for category in sorted(consents))]
    async with pool.acquire() as conn, conn.transaction():
        # Another site's patient, to a key limited to its own sites, is answered as an unknown one.
        if not await sites.reaches_patient(conn, patient_ref):
            raise _unknown()
        stored = await lock_contact(conn, patient_ref)
        if stored is None:
            raise _unknown()
        merged = {**asdict(stored), **changes}
        missing = missing_address(str(merged["preferred_channel"]), merged["phone"], merged["email"])
        if missing is not None:
            raise Problem(422, "contact-unreachable", unreachable_detail(missing))
        updated_at: datetime | None = None
        if changes:
            updated_at = await change_contact(conn, patient_ref, changes)
            assert updated_at is not None  # the row is locked
        if consents:
            # Staff record the patient's decision; the audit row says which client did.
            updated_at = await record_consents(conn, patient_ref, consents, ConsentSource.API)
        assert updated_at is not None  # the request named a change (ContactChange)
        await audit.record(
            conn,
            actor=client.name,
            action="patient.write",
            patient_ref=patient_ref,
            detail={"via": "PATCH /v1/patients", "fields": changed},
        )
    return ContactChanged(patient_ref=patient_ref, changed=changed, updated_at=updated_at)
