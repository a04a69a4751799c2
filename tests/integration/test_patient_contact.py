"""`PATCH /v1/patients/{patient_ref}`: contact details change here, audited, and never echoed."""

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from db.patients import refuse_email
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


async def test_an_e_mail_address_refused_by_its_mail_server_shows_in_the_view_until_it_changes(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    created = await api.post("/v1/referrals", json=referral_body(f"REF-CONTACT-{uuid.uuid4().hex[:8]}"))
    assert created.status_code == 201, created.text
    pathway_id, patient_ref = created.json()["pathway_id"], created.json()["patient_ref"]

    async def contact() -> dict[str, Any]:
        answer = await api.get(f"/v1/pathways/{pathway_id}")
        assert answer.status_code == 200, answer.text
        shown: dict[str, Any] = answer.json()["contact"]
        return shown

    assert (await contact())["email"] == "active"
    # What the notification activity records when the mail server answers 550 for the mailbox.
    await refuse_email(pool, patient_ref, "ada@example.org")
    assert ((await contact())["email"], (await contact())["sms"]) == ("refused", "active")
    # A change that leaves the address alone leaves its refusal; a new address clears it.
    answer = await api.patch(f"/v1/patients/{patient_ref}", json={"preferred_language": "es"})
    assert answer.status_code == 200, answer.text
    assert (await contact())["email"] == "refused"
    answer = await api.patch(f"/v1/patients/{patient_ref}", json={"email": "ada.new@example.org"})
    assert answer.status_code == 200, answer.text
    assert (await contact())["email"] == "active"
    await refuse_email(pool, patient_ref, "ada@example.org")  # a late refusal of the old address
    assert (await contact())["email"] == "active"


async def test_the_language_of_the_patients_messages_is_english_unless_changed(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    patient_ref = await _patient(api)
    language = "select preferred_language from patients where patient_ref = $1"
    assert await pool.fetchval(language, patient_ref) == "en"
    answer = await api.patch(f"/v1/patients/{patient_ref}", json={"preferred_language": "es"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["changed"] == ["preferred_language"]
    assert await pool.fetchval(language, patient_ref) == "es"
    for refused in ("fr", None, "ES"):
        answer = await api.patch(f"/v1/patients/{patient_ref}", json={"preferred_language": refused})
        assert_problem(answer, 422, "/problems/invalid-request")
    assert await pool.fetchval(language, patient_ref) == "es"


async def test_a_referral_sets_the_language_of_a_new_patients_messages(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    body = referral_body(f"REF-LANGUAGE-{uuid.uuid4().hex[:8]}")
    body["patient"]["preferred_language"] = "es"
    created = await api.post("/v1/referrals", json=body)
    assert created.status_code == 201, created.text
    stored = "select preferred_language from patients where patient_ref = $1"
    assert await pool.fetchval(stored, created.json()["patient_ref"]) == "es"


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


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"preferred_channel": "email", "email": None}, ["email", "preferred_channel"]),
        ({"phone": None}, ["phone", "preferred_channel"]),  # the channel is sms
        ({"phone": None, "email": None}, ["phone", "preferred_channel"]),
    ],
)
async def test_a_change_that_leaves_the_preferred_channel_without_an_address_is_422(
    api: httpx.AsyncClient, pool: asyncpg.Pool, body: dict[str, Any], fields: list[str]
) -> None:
    patient_ref = await _patient(api)
    before = await _contact(pool, patient_ref)
    answer = await api.patch(f"/v1/patients/{patient_ref}", json=body)
    problem = assert_problem(answer, 422, "/problems/contact-unreachable")
    assert all(field in problem["detail"] for field in fields), problem["detail"]
    assert "+16025550100" not in answer.text and "ada@example.org" not in answer.text
    assert await _contact(pool, patient_ref) == before


async def test_the_phone_may_go_when_email_is_the_channel_even_with_sms_consent(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    patient_ref = await _patient(api)
    before = await _contact(pool, patient_ref)
    assert before["sms_consent"] is True
    answer = await api.patch(
        f"/v1/patients/{patient_ref}", json={"preferred_channel": "email", "phone": None}
    )
    assert answer.status_code == 200, answer.text
    assert await _contact(pool, patient_ref) == {**before, "preferred_channel": "email", "phone": None}
    # Back to sms is refused now: there is no phone.
    back = await api.patch(f"/v1/patients/{patient_ref}", json={"preferred_channel": "sms"})
    assert_problem(back, 422, "/problems/contact-unreachable")
    moved = await api.patch(
        f"/v1/patients/{patient_ref}", json={"preferred_channel": "sms", "phone": NEW_PHONE}
    )
    assert moved.status_code == 200, moved.text


async def test_concurrent_changes_cannot_together_leave_the_patient_unreachable(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    """Each change alone keeps an address for the channel; the two together would not. One is refused."""
    for _ in range(5):
        patient_ref = await _patient(api)
        url = f"/v1/patients/{patient_ref}"
        answers = await asyncio.gather(
            api.patch(url, json={"email": None}), api.patch(url, json={"preferred_channel": "email"})
        )
        assert sorted(a.status_code for a in answers) == [200, 422], [a.text for a in answers]
        stored = await _contact(pool, patient_ref)
        assert stored["phone" if stored["preferred_channel"] == "sms" else "email"] is not None


@pytest.mark.parametrize(
    ("patient", "field"),
    [
        ({"preferred_channel": "sms", "phone": None}, "phone"),
        ({"preferred_channel": "email", "email": None}, "email"),
    ],
)
async def test_a_referral_without_an_address_for_its_channel_is_422_and_stores_nothing(
    api: httpx.AsyncClient, pool: asyncpg.Pool, patient: dict[str, Any], field: str
) -> None:
    body = referral_body(f"REF-UNREACHABLE-{uuid.uuid4().hex[:8]}")
    body["patient"] = {k: v for k, v in {**body["patient"], **patient}.items() if v is not None}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    answer = await api.post("/v1/referrals", json=body, headers=key)
    problem = assert_problem(answer, 422, "/problems/contact-unreachable")
    assert field in problem["detail"] and "preferred_channel" in problem["detail"]
    assert await pool.fetchval("select count(*) from patients where mrn = $1", body["patient"]["mrn"]) == 0
    corrected = await api.post("/v1/referrals", json=referral_body(body["referral_id"]), headers=key)
    assert corrected.status_code == 201, corrected.text


async def test_a_referral_by_email_needs_no_phone(api: httpx.AsyncClient) -> None:
    body = referral_body(f"REF-EMAIL-ONLY-{uuid.uuid4().hex[:8]}")
    body["patient"] = {**body["patient"], "preferred_channel": "email", "sms_consent": False}
    del body["patient"]["phone"]
    answer = await api.post("/v1/referrals", json=body)
    assert answer.status_code == 201, answer.text
