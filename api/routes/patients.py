"""`PATCH /v1/patients/{patient_ref}`: the one way contact details and consents change once a patient is
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

from api.auth import require_scope
from api.dependencies import Pool
from api.problems import Problem, ProblemDetails, problem_responses
from api.site_access import Sites
from db import audit
from db.api_clients import ApiClient
from db.consents import record_consents
from db.patients import change_contact, lock_contact
from domain.consents import ConsentSource
from domain.contact import ContactChange, missing_address, unreachable_detail

router = APIRouter(tags=["patients"])
ContactWriter = Annotated[ApiClient, Depends(require_scope("patients:write"))]

_PATIENT_REF = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class ContactChanged(BaseModel):
    """The contact details and consents named in the request are stored (their values are not repeated
    here)."""

    patient_ref: str
    changed: list[str]
    updated_at: datetime


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
    if not _PATIENT_REF.match(patient_ref):
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
