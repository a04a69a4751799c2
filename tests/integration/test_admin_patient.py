"""`dvr-admin patient show`: the patient of a pathway for a staff member who must call, audited with the
reason, never logged."""

import asyncio
import getpass
import logging
import uuid

import pytest

from db.patients import register_patient
from db.pool import create_pool
from db.referrals import remember_referral
from db.seed import DEMO_SITE
from domain.referral import Patient
from tests.integration.admin_cli import fetch, run_admin

PATIENT = Patient(
    mrn="MRN-CALL-CANARY",
    given_name="Ottoline",
    family_name="Canaryfield",
    birth_date="1961-07-14",
    phone="+16025550177",
    email="ottoline.canary@example.org",
    preferred_channel="sms",
    preferred_language="es",
)


def _registered(database: str) -> tuple[str, str]:
    """A pathway whose referral registered PATIENT (under an MRN of its own): (pathway id, patient ref)."""
    pathway_id = f"pathway-{uuid.uuid4()}"

    async def register() -> str:
        pool = await create_pool(database, max_size=1)
        try:
            async with pool.acquire() as conn, conn.transaction():
                patient = PATIENT.model_copy(update={"mrn": f"{PATIENT.mrn}-{pathway_id[-8:]}"})
                ref = (await register_patient(conn, DEMO_SITE, patient)).patient_ref
                await remember_referral(conn, pathway_id, "hash", ref, None)
            return ref
        finally:
            await pool.close()

    return pathway_id, asyncio.run(register())


def _audit(database: str, pathway_id: str) -> list[dict[str, object]]:
    rows = fetch(
        database,
        "select actor, action, patient_ref::text, pathway_id, detail from audit_log where pathway_id = $1",
        pathway_id,
    )
    return [dict(r) for r in rows]


def test_the_patient_is_shown_once_audited_with_the_reason_and_logged_nowhere(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    pathway_id, ref = _registered(database)
    caplog.set_level(logging.DEBUG)
    result = run_admin(database, "patient", "show", pathway_id, "--reason", "no diary reports: calling")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:6] == [
        f"Pathway:   {pathway_id}",
        "Patient:   Ottoline Canaryfield",
        "Phone:     +16025550177",
        "E-mail:    ottoline.canary@example.org",
        "Language:  Spanish (es)",
        "Prefers:   sms",
    ]
    assert lines[6].startswith("Time zone: America/Phoenix (now ")
    assert result.stderr == ""
    assert _audit(database, pathway_id) == [
        {
            "actor": f"cli:{getpass.getuser()}",
            "action": "patient.contact.read",
            "patient_ref": ref,
            "pathway_id": pathway_id,
            "detail": {"via": "dvr-admin patient show", "reason": "no diary reports: calling"},
        }
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for phi in ("Ottoline", "Canaryfield", "+16025550177", "ottoline.canary", "MRN-CALL-CANARY"):
        assert phi not in logged


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        ([], 2, "error: Missing option '--reason'."),
        (
            ["--reason", "  "],
            1,
            "error: --reason says why you need the details: 3 to 300 characters, on one line",
        ),
        (
            ["--reason", "a\nb c"],
            1,
            "error: --reason says why you need the details: 3 to 300 characters, on one line",
        ),
    ],
)
def test_without_a_reason_nothing_is_shown_or_audited(
    database: str, args: list[str], code: int, error: str
) -> None:
    pathway_id, _ = _registered(database)
    result = run_admin(database, "patient", "show", pathway_id, *args)
    assert (result.exit_code, result.stdout, result.stderr.strip()) == (code, "", error)
    assert _audit(database, pathway_id) == []


def test_an_unknown_pathway_shows_nothing(database: str) -> None:
    unknown = f"pathway-{uuid.uuid4()}"
    result = run_admin(database, "patient", "show", unknown, "--reason", "calling back")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"error: no referral started {unknown}\n"
    assert _audit(database, unknown) == []
    child = f"{unknown}-relief-1"
    result = run_admin(database, "patient", "show", child, "--reason", "calling back")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {child!r} is not a pathway id (pathway-<uuid>, as the API and the UI show it)\n"
    )
