"""The audit trail: reading a patient's contact details to send a message leaves a row, and no row can be
changed or removed afterwards."""

import json
import uuid

import asyncpg
import pytest

from activities.notifications import NotificationActivities
from db.patients import register_patient
from db.seed import DEMO_SITE
from domain.notifications import NotificationRequest, Recipient
from domain.referral import Patient
from tests.integration.conftest import RecordingProvider


async def test_reading_a_contact_to_send_is_audited_without_phi(pool: asyncpg.Pool) -> None:
    patient = Patient(
        mrn=f"MRN-{uuid.uuid4().hex[:8]}",
        given_name="Grace",
        family_name="Auditee",
        birth_date="1968-05-04",
        phone="+16025550199",
        email="grace.auditee@example.org",
        preferred_channel="email",
    )
    patient_ref = (await register_patient(pool, DEMO_SITE, patient)).patient_ref
    pathway_id = f"pathway-audit-{uuid.uuid4().hex[:8]}"
    request = NotificationRequest(
        key=f"{pathway_id}:diary-1",
        pathway_id=pathway_id,
        recipient=Recipient.PATIENT,
        patient_ref=patient_ref,
        template="diary_prompt",
    )
    provider = RecordingProvider()
    await NotificationActivities(pool, provider, "staff@clinic.example").send_notification(request)
    assert [m.address for m in provider.sent] == [patient.email]

    rows = await pool.fetch(
        "select actor, action, patient_ref, pathway_id, detail from audit_log where pathway_id = $1",
        pathway_id,
    )
    assert len(rows) == 1
    row = rows[0]
    assert (row["actor"], row["action"], str(row["patient_ref"]), row["pathway_id"]) == (
        "worker",
        "patient.contact.read",
        patient_ref,
        pathway_id,
    )
    assert row["detail"] == {"message_key": request.key}
    detail = json.dumps(row["detail"])
    for phi in (patient.mrn, patient.given_name, patient.family_name, patient.phone, patient.email):
        assert phi is not None and phi not in detail


@pytest.mark.parametrize(
    "statement",
    [
        "update audit_log set actor = 'someone else'",
        "delete from audit_log",
        "truncate audit_log",
    ],
)
async def test_the_audit_log_refuses_changes(pool: asyncpg.Pool, statement: str) -> None:
    await pool.execute("insert into audit_log (actor, action) values ('test', 'audit.append_only.check')")
    before = await pool.fetch("select id, actor, action from audit_log order by id")
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await pool.execute(statement)
    # The rows there before, unchanged; pathways of other tests' still at work may append theirs meanwhile.
    after = await pool.fetch(
        "select id, actor, action from audit_log where id = any($1) order by id", [r["id"] for r in before]
    )
    assert after == before
