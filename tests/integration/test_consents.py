"""Rules of contact: consents from the referral and from staff, what they withhold, and what staff see."""

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from activities.notifications import NotificationActivities
from activities.providers.base import OutboundMessage
from db.consents import record_consents
from db.patients import register_patient
from db.seed import DEMO_SITE
from db.sms_numbers import opt_out
from domain.consents import ConsentCategory, ConsentSource
from domain.notifications import (
    Channel,
    NotificationReceipt,
    NotificationRequest,
    ReceiptStatus,
    Recipient,
)
from domain.referral import Patient
from tests.integration.conftest import ON_CALL_PHONE, STAFF_EMAIL, RecordingProvider
from tests.integration.polling import next_action_is, poll_view
from tests.integration.problems import assert_problem
from tests.integration.walk import record_steps_to_relief_check
from tests.referrals import referral_body

EVERY_CATEGORY = {"appointments": True, "diary": True, "follow_up": True, "email": True}
MRI_REVIEW = {"facet_swelling": True, "levels": ["L4-L5"], "reviewed_by": "Dr. R"}


def _number() -> str:
    """A number no other test uses: an opt-out covers every patient with the number."""
    return f"+1480555{uuid.uuid4().int % 10_000:04d}"


async def _refer(api: httpx.AsyncClient, *, mrn: str | None = None, **patient: Any) -> dict[str, Any]:
    """Refers a patient with `patient`'s fields; the answer, once the pathway waits for the MRI review."""
    referral_id = f"REF-CONSENT-{uuid.uuid4().hex[:10]}"
    body = referral_body(referral_id)
    body["patient"] |= {"phone": _number(), "mrn": mrn or f"MRN-{referral_id}", **patient}
    created = await api.post("/v1/referrals", json=body)
    assert created.status_code in (200, 201), created.text
    answer: dict[str, Any] = created.json()
    await poll_view(api, answer["pathway_id"], "mri review due", next_action_is("mri_review"))
    return answer


async def _decisions(pool: asyncpg.Pool, patient_ref: str) -> list[tuple[str, bool, str]]:
    rows = await pool.fetch(
        "select category, granted, source from patient_consents where patient_ref = $1 order by id",
        patient_ref,
    )
    return [(r["category"], r["granted"], r["source"]) for r in rows]


async def _outbox(pool: asyncpg.Pool, patient_ref: str, template: str) -> list[tuple[str, str | None]]:
    """(status, last_error) of the patient's messages of `template`, once there is one and none is still
    being sent."""
    rows: list[asyncpg.Record] = []
    for _ in range(200):
        rows = await pool.fetch(
            "select status, last_error from outbox where patient_ref = $1 and template = $2 order by id",
            patient_ref,
            template,
        )
        if rows and all(r["status"] not in ("pending", "sending") for r in rows):
            break
        await asyncio.sleep(0.1)
    return [(r["status"], r["last_error"]) for r in rows]


def _sent_to_patient(provider: RecordingProvider, pathway_id: str) -> list[OutboundMessage]:
    staff = {STAFF_EMAIL, ON_CALL_PHONE}
    return [m for m in provider.sent if m.key.startswith(f"{pathway_id}:") and m.address not in staff]


async def test_a_declined_diary_is_not_sent_and_staff_hear_of_the_silence_not_of_an_unreachable_patient(
    api: httpx.AsyncClient, pool: asyncpg.Pool, provider: RecordingProvider
) -> None:
    referred = await _refer(api, consents={"diary": False})
    pathway_id, patient_ref = referred["pathway_id"], referred["patient_ref"]
    assert await _decisions(pool, patient_ref) == [("diary", False, "referral")]
    await record_steps_to_relief_check(api, pathway_id)

    # Every prompt so far (later ones may be on their way): none sent, each suppressed as declined.
    assert set(await _outbox(pool, patient_ref, "diary_prompt")) == {("suppressed", "declined")}
    # No report comes: the relief check's own alert asks staff to call; the patient is not "unreachable".
    silent = await poll_view(
        api, pathway_id, "no diary reports", lambda v: "no_diary_reports" in v["attention_reasons"]
    )
    assert "patient_unreachable" not in silent["attention_reasons"]
    assert silent["contact"]["consents"] == EVERY_CATEGORY | {"diary": False}
    assert not [m for m in _sent_to_patient(provider, pathway_id) if "prompt" in m.key]
    # The appointment messages it did not decline went out.
    assert await _outbox(pool, patient_ref, "appointment_booked") == [("sent", None)] * 2
    # Stopped, so that its diary does not go on in the background of later tests.
    withdrawn = await api.post(f"/v1/pathways/{pathway_id}/withdraw", json={"reason": "test over"})
    assert withdrawn.status_code == 200, withdrawn.text


async def test_email_declined_is_not_used_even_with_an_address(
    api: httpx.AsyncClient, pool: asyncpg.Pool, provider: RecordingProvider
) -> None:
    # E-mail preferred, but declined: the booking goes by SMS.
    referred = await _refer(api, preferred_channel="email", consents={"email": False})
    pathway_id, patient_ref = referred["pathway_id"], referred["patient_ref"]
    assert (await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=MRI_REVIEW)).status_code == 200
    assert await _outbox(pool, patient_ref, "appointment_booked") == [("sent", None)]
    assert {m.channel for m in _sent_to_patient(provider, pathway_id)} == {"sms"}


async def test_sms_opted_out_and_email_declined_leaves_the_patient_unreachable(
    api: httpx.AsyncClient, pool: asyncpg.Pool, provider: RecordingProvider
) -> None:
    referred = await _refer(api, consents={"email": False})
    pathway_id, patient_ref = referred["pathway_id"], referred["patient_ref"]
    phone = await pool.fetchval("select phone_e164 from patients where patient_ref = $1", patient_ref)
    await opt_out(pool, phone, datetime.now(UTC))
    assert (await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=MRI_REVIEW)).status_code == 200
    flagged = await poll_view(
        api, pathway_id, "patient unreachable", lambda v: "patient_unreachable" in v["attention_reasons"]
    )
    assert flagged["contact"] == {
        "sms": "opted_out",
        "email": "none",  # an address, but declined
        "consents": EVERY_CATEGORY | {"email": False},
    }
    assert await _outbox(pool, patient_ref, "appointment_booked") == [("suppressed", "no reachable channel")]
    assert _sent_to_patient(provider, pathway_id) == []


async def test_staff_record_a_decision_that_a_later_referral_does_not_override(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    first = await _refer(api)
    pathway_id, patient_ref = first["pathway_id"], first["patient_ref"]
    assert await _decisions(pool, patient_ref) == []  # none sent: every category granted
    assert (await api.get(f"/v1/pathways/{pathway_id}")).json()["contact"]["consents"] == EVERY_CATEGORY

    decided = {"consents": {"diary": False, "email": True}}
    answer = await api.patch(f"/v1/patients/{patient_ref}", json=decided)
    assert answer.status_code == 200, answer.text
    assert answer.json()["changed"] == ["consents.diary", "consents.email"]
    rows = await pool.fetch(
        "select category, granted, source, recorded_at from patient_consents"
        " where patient_ref = $1 order by id",
        patient_ref,
    )
    assert [(r["category"], r["granted"], r["source"]) for r in rows] == [
        ("diary", False, "api"),
        ("email", True, "api"),
    ]
    assert {r["recorded_at"] for r in rows} == {datetime.fromisoformat(answer.json()["updated_at"])}
    audit = await pool.fetchrow(
        "select actor, detail from audit_log"
        " where patient_ref = $1 and detail->>'via' = 'PATCH /v1/patients'",
        patient_ref,
    )
    assert audit is not None
    assert audit["actor"] == "integration"
    assert audit["detail"]["fields"] == ["consents.diary", "consents.email"]

    # A new referral of the same patient (same MRN) saying otherwise keeps the staff's later decision.
    mrn = await pool.fetchval("select mrn from patients where patient_ref = $1", patient_ref)
    second = await _refer(api, mrn=mrn, consents={"diary": True, "follow_up": False})
    assert second["patient_ref"] == patient_ref and second["pathway_id"] != pathway_id
    assert len(await _decisions(pool, patient_ref)) == 2
    shown = (await api.get(f"/v1/pathways/{second['pathway_id']}")).json()["contact"]["consents"]
    assert shown == EVERY_CATEGORY | {"diary": False}


async def test_a_later_decision_replaces_an_earlier_one(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    referred = await _refer(api, consents={"follow_up": False})
    pathway_id, patient_ref = referred["pathway_id"], referred["patient_ref"]
    answer = await api.patch(f"/v1/patients/{patient_ref}", json={"consents": {"follow_up": True}})
    assert answer.status_code == 200, answer.text
    assert await _decisions(pool, patient_ref) == [
        ("follow_up", False, "referral"),
        ("follow_up", True, "api"),
    ]
    assert (await api.get(f"/v1/pathways/{pathway_id}")).json()["contact"]["consents"] == EVERY_CATEGORY


@pytest.mark.parametrize(
    "consents",
    [{"sms": False}, {"diary": None}, {"diary": "no"}, {}, None],
)
async def test_unknown_categories_and_other_values_are_422_and_record_nothing(
    api: httpx.AsyncClient, pool: asyncpg.Pool, consents: Any
) -> None:
    referred = await _refer(api)
    patient_ref = referred["patient_ref"]
    answer = await api.patch(f"/v1/patients/{patient_ref}", json={"consents": consents})
    assert_problem(answer, 422, "/problems/invalid-request")
    assert await _decisions(pool, patient_ref) == []
    if consents != {}:  # a referral's may be empty: it decides nothing
        body = referral_body(f"REF-CONSENT-{uuid.uuid4().hex[:10]}")
        body["patient"]["consents"] = consents
        assert_problem(await api.post("/v1/referrals", json=body), 422, "/problems/invalid-request")


async def test_a_declined_message_is_declined_again_when_retried_and_urgent_advice_still_goes(
    pool: asyncpg.Pool,
) -> None:
    provider = RecordingProvider()
    activities = NotificationActivities(pool, provider, STAFF_EMAIL)
    patient = Patient(
        mrn=f"MRN-{uuid.uuid4().hex[:8]}",
        given_name="Ada",
        family_name="Example",
        birth_date=date(1970, 1, 1),
        phone=_number(),
        sms_consent=True,
    )
    patient_ref = (await register_patient(pool, DEMO_SITE, patient)).patient_ref
    await record_consents(pool, patient_ref, dict.fromkeys(ConsentCategory, False), ConsentSource.API)

    def request(template: str) -> NotificationRequest:
        return NotificationRequest(
            key=f"pathway-c:{uuid.uuid4()}",
            pathway_id="pathway-c",
            recipient=Recipient.PATIENT,
            patient_ref=patient_ref,
            template=template,
        )

    prompt = request("diary_prompt")
    declined = NotificationReceipt(status=ReceiptStatus.DECLINED)
    assert await activities.send_notification(prompt) == declined
    assert await activities.send_notification(prompt) == declined  # a retry finds the row's reason
    assert await _outbox(pool, patient_ref, "diary_prompt") == [("suppressed", "declined")]
    advice = await activities.send_notification(request("red_flag_advice"))
    assert advice == NotificationReceipt(status=ReceiptStatus.SENT, channel=Channel.SMS)
    assert len(provider.sent) == 1


async def test_a_decision_comes_from_the_referral_staff_or_the_link_page_never_a_text(
    pool: asyncpg.Pool,
) -> None:
    patient = Patient(
        mrn=f"MRN-{uuid.uuid4().hex[:8]}",
        given_name="Ada",
        family_name="Example",
        birth_date=date(1970, 1, 1),
        phone=_number(),
        sms_consent=True,
    )
    patient_ref = (await register_patient(pool, DEMO_SITE, patient)).patient_ref
    for source in ConsentSource:
        await record_consents(pool, patient_ref, {ConsentCategory.DIARY: False}, source)
    # No SMS keyword decides a category (STOP and START are per number): the database refuses the source.
    with pytest.raises(asyncpg.CheckViolationError):
        await pool.execute(
            "insert into patient_consents (patient_ref, category, granted, recorded_at, source)"
            " values ($1, 'diary', true, now(), 'sms_reply')",
            patient_ref,
        )
    assert await _decisions(pool, patient_ref) == [
        ("diary", False, "referral"),
        ("diary", False, "api"),
        ("diary", False, "link"),
    ]
