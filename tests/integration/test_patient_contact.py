"""`PATCH /v1/patients/{patient_ref}`: contact details change here, audited, and never echoed."""

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.integration.conftest import READ_ONLY_KEY
from tests.integration.problems import assert_problem
from tests.referrals import referral_body

NEW_PHONE = "+16025550123"


async def _patient(api: httpx.AsyncClient) -> str:
    created = await api.post("/v1/referrals", json=referral_body(f"REF-CONTACT-{uuid.uuid4().hex[:8]}"))
    assert created.status_code == 201, created.text
    patient_ref: str = created.json()["patient_ref"]
    return patient_ref


async def _contact(pool: asyncpg.Pool, patient_ref: str) -> dict[str, Any]:
    row = await pool.fetchrow(
        "select phone, email, timezone, preferred_channel, sms_consent from patients where patient_ref = $1",
        patient_ref,
    )
    assert row is not None
    return dict(row)


async def test_a_contact_change_is_stored_audited_and_not_echoed(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    patient_ref = await _patient(api)
    before = await _contact(pool, patient_ref)
    answer = await api.patch(
        f"/v1/patients/{patient_ref}", json={"phone": NEW_PHONE, "email": None, "preferred_channel": "sms"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["patient_ref"] == patient_ref
    assert answer.json()["changed"] == ["email", "phone", "preferred_channel"]
    assert NEW_PHONE not in answer.text
    assert await _contact(pool, patient_ref) == {**before, "phone": NEW_PHONE, "email": None}

    rows = await pool.fetch(
        "select actor, action, pathway_id, detail from audit_log"
        " where patient_ref = $1 and detail->>'via' = 'PATCH /v1/patients'",
        patient_ref,
    )
    assert [(r["actor"], r["action"], r["pathway_id"]) for r in rows] == [
        ("integration", "patient.write", None)
    ]
    assert rows[0]["detail"]["fields"] == ["email", "phone", "preferred_channel"]
    assert NEW_PHONE not in str(rows[0]["detail"])


async def test_an_unknown_or_malformed_patient_ref_is_404(api: httpx.AsyncClient) -> None:
    for ref in (str(uuid.uuid4()), "not-a-ref"):
        answer = await api.patch(f"/v1/patients/{ref}", json={"sms_consent": False})
        assert_problem(answer, 404, "/problems/patient-not-found")


async def test_an_invalid_change_is_422_naming_the_field_not_the_value(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    patient_ref = await _patient(api)
    before = await _contact(pool, patient_ref)
    invalid: list[tuple[dict[str, Any], tuple[str, ...]]] = [
        ({"phone": "555-0199-PHI"}, ("body", "phone")),
        ({"timezone": "America/New_York"}, ("body", "timezone")),  # the referral's: timed the pathway
        ({"sms_consent": None}, ("body", "sms_consent")),
        ({"preferred_channel": "pager"}, ("body", "preferred_channel")),
        ({"given_name": "Renamed"}, ("body", "given_name")),
        ({}, ("body",)),
    ]
    for body, loc in invalid:
        answer = await api.patch(f"/v1/patients/{patient_ref}", json=body)
        problem = assert_problem(answer, 422, "/problems/invalid-request")
        assert [tuple(e["loc"]) for e in problem["errors"]] == [loc], body
        assert "555-0199-PHI" not in answer.text and "Olympus" not in answer.text
    assert await _contact(pool, patient_ref) == before


async def test_a_key_without_the_patients_write_scope_is_403(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    patient_ref = await _patient(api)
    before = await _contact(pool, patient_ref)
    answer = await api.patch(
        f"/v1/patients/{patient_ref}",
        json={"phone": NEW_PHONE},
        headers={"Authorization": f"Bearer {READ_ONLY_KEY}"},
    )
    assert_problem(answer, 403, "/problems/forbidden")
    assert await _contact(pool, patient_ref) == before


@pytest.mark.parametrize(
    "body",
    [
        {"sms_consent": "yes"},
        {"sms_consent": "on"},
        {"sms_consent": "true"},
        {"sms_consent": "false"},
        {"sms_consent": 1},
        {"sms_consent": 0},
        {"sms_consent": 1.0},
        {"preferred_channel": 1},
        {"preferred_channel": True},
        {"preferred_channel": "SMS"},
        {"phone": 16025550123},
        {"phone": True},
        {"email": 5},
        {"email": ["ada@example.org"]},
    ],
)
async def test_a_value_of_another_type_is_422_and_not_stored(
    api: httpx.AsyncClient, pool: asyncpg.Pool, body: dict[str, Any]
) -> None:
    patient_ref = await _patient(api)
    before = await _contact(pool, patient_ref)
    answer = await api.patch(f"/v1/patients/{patient_ref}", json=body)
    problem = assert_problem(answer, 422, "/problems/invalid-request")
    assert [tuple(e["loc"])[:2] for e in problem["errors"]] == [("body", *body)], body
    assert await _contact(pool, patient_ref) == before
