"""`POST /v1/sms/status`: signed delivery reports move a sent SMS's status forward, and only forward; a number
that cannot take SMS sends the message again on the patient's other channel, or flags them unreachable."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs
from temporalio.client import Client
from twilio.request_validator import RequestValidator

from api.app import create_app
from config.settings import Settings
from domain.notifications import Channel
from tests.integration.conftest import RecordingProvider
from tests.integration.polling import next_action_is, poll_view
from tests.integration.walk import record_steps_to_relief_check
from tests.referrals import referral_body

PUBLIC_URL = "https://dvr.clinic.example"
TOKEN = "status-callback-auth-token"
PATH = "/v1/sms/status"
PHONE = "+16025550123"


@pytest.fixture
async def gateway_client(pool: asyncpg.Pool, temporal: Client) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(profile="demo", public_url=PUBLIC_URL, twilio_auth_token=SecretStr(TOKEN))
    app = create_app(settings, pool=pool, temporal=temporal)
    # No API key: the gateway signs its requests instead.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://internal:8000"
    ) as client:
        yield client


async def _sent_sms(pool: asyncpg.Pool) -> tuple[str, str]:
    key, sid = f"pathway-st:{uuid.uuid4()}", f"SM{uuid.uuid4().hex}"
    await pool.execute(
        "insert into outbox (message_key, pathway_id, recipient, template, channel, address, body, status,"
        " provider_message_id, sent_at) values ($1, 'pathway-st', 'patient', 'diary_prompt', 'sms', $2,"
        " 'How is your pain now?', 'sent', $3, now())",
        key,
        PHONE,
        sid,
    )
    return key, sid


def _report(sid: str, status: str, error_code: str | None = None) -> dict[str, str]:
    report = {
        "MessageSid": sid,
        "MessageStatus": status,
        "To": PHONE,
        "AccountSid": "AC1",
        "ApiVersion": "2010-04-01",
    }
    return report | ({"ErrorCode": error_code} if error_code else {})


async def _post(client: httpx.AsyncClient, form: dict[str, str], *, token: str = TOKEN) -> httpx.Response:
    signature = RequestValidator(token).compute_signature(PUBLIC_URL + PATH, form)
    return await client.post(PATH, data=form, headers={"X-Twilio-Signature": signature})


async def _status(pool: asyncpg.Pool, key: str) -> str | None:
    status: str | None = await pool.fetchval("select delivery_status from outbox where message_key = $1", key)
    return status


async def test_a_signed_report_moves_the_status_forward(
    pool: asyncpg.Pool, gateway_client: httpx.AsyncClient
) -> None:
    key, sid = await _sent_sms(pool)
    with capture_logs() as logs:
        for status in ("queued", "sent", "delivered"):
            response = await _post(gateway_client, _report(sid, status))
            assert response.status_code == 200
            assert await _status(pool, key) == status
    # The session's worker may log its own messages meanwhile (other tests' pathways): only the API's count.
    reports = [line for line in logs if line["event"].startswith("sms.")]
    assert PHONE not in str(logs) and {line["message_sid"] for line in reports} == {sid}


async def test_a_late_older_report_is_ignored(pool: asyncpg.Pool, gateway_client: httpx.AsyncClient) -> None:
    key, sid = await _sent_sms(pool)
    assert (await _post(gateway_client, _report(sid, "delivered"))).status_code == 200
    for late in ("sent", "sending", "queued", "failed"):
        assert (await _post(gateway_client, _report(sid, late))).status_code == 200
    assert await _status(pool, key) == "delivered"


async def test_a_failure_is_final(pool: asyncpg.Pool, gateway_client: httpx.AsyncClient) -> None:
    key, sid = await _sent_sms(pool)
    for status in ("sending", "undelivered", "delivered", "sent"):
        await _post(gateway_client, _report(sid, status))
    assert await _status(pool, key) == "undelivered"


@pytest.mark.parametrize(
    "signature",
    [None, "", "bm90IGEgc2lnbmF0dXJl", "other-token", "other-url"],
)
async def test_a_wrong_or_missing_signature_is_forbidden_and_changes_nothing(
    pool: asyncpg.Pool, gateway_client: httpx.AsyncClient, signature: str | None
) -> None:
    key, sid = await _sent_sms(pool)
    form = _report(sid, "delivered")
    headers = {}
    if signature == "other-token":
        headers["X-Twilio-Signature"] = RequestValidator("not-the-token").compute_signature(
            PUBLIC_URL + PATH, form
        )
    elif signature == "other-url":
        headers["X-Twilio-Signature"] = RequestValidator(TOKEN).compute_signature(
            "https://evil.example" + PATH, form
        )
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    response = await gateway_client.post(PATH, data=form, headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/not-signed-by-the-gateway"
    assert await _status(pool, key) is None


async def test_a_signed_report_whose_fields_were_altered_is_forbidden(
    pool: asyncpg.Pool, gateway_client: httpx.AsyncClient
) -> None:
    key, sid = await _sent_sms(pool)
    signed = _report(sid, "failed")
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_URL + PATH, signed)
    altered = {**signed, "MessageStatus": "delivered"}
    response = await gateway_client.post(PATH, data=altered, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert await _status(pool, key) is None


async def test_an_unknown_sid_answers_as_a_known_one_and_changes_nothing(
    pool: asyncpg.Pool, gateway_client: httpx.AsyncClient
) -> None:
    key, sid = await _sent_sms(pool)
    known = await _post(gateway_client, _report(sid, "sent"))
    unknown = await _post(gateway_client, _report(f"SM{uuid.uuid4().hex}", "sent"))
    assert (unknown.status_code, unknown.content) == (known.status_code, known.content) == (200, b"")
    assert await _status(pool, key) == "sent"


async def test_without_a_gateway_configured_every_report_is_forbidden(
    pool: asyncpg.Pool, temporal: Client
) -> None:
    app = create_app(Settings(profile="demo"), pool=pool, temporal=temporal)
    key, sid = await _sent_sms(pool)
    form = _report(sid, "delivered")
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_URL + PATH, form)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://internal"
    ) as client:
        response = await client.post(PATH, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert await _status(pool, key) is None


# ---- a number that cannot take SMS, reported after the gateway took the message --------------------------

MRI_REVIEW = {"facet_swelling": True, "levels": ["L4-L5"], "reviewed_by": "Dr. R"}


async def _refer(api: httpx.AsyncClient, **patient: Any) -> tuple[str, str]:
    """A referral for a patient with a number of their own; (pathway id, patient_ref) once it waits for the
    MRI review."""
    referral_id = f"REF-ST-{uuid.uuid4().hex[:10]}"
    body = referral_body(referral_id)
    body["patient"] |= {"phone": f"+1602555{uuid.uuid4().int % 10_000:04d}", **patient}
    created = await api.post("/v1/referrals", json=body)
    assert created.status_code == 201, created.text
    await poll_view(api, created.json()["pathway_id"], "mri review due", next_action_is("mri_review"))
    return created.json()["pathway_id"], created.json()["patient_ref"]


async def _sent(pool: asyncpg.Pool, pathway_id: str, template: str) -> asyncpg.Record:
    """The pathway's first `template` message once it is sent (key, channel, provider id)."""
    for _ in range(300):
        row = await pool.fetchrow(
            "select message_key, channel, provider_message_id from outbox"
            " where pathway_id = $1 and template = $2 and status = 'sent' order by id limit 1",
            pathway_id,
            template,
        )
        if row is not None:
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {template} message was sent on {pathway_id}")


async def _resent(pool: asyncpg.Pool, key: str) -> asyncpg.Record:
    for _ in range(300):
        row = await pool.fetchrow(
            "select channel, status, last_error, address from outbox where message_key = $1"
            " and status in ('sent', 'suppressed', 'failed')",
            f"{key}:resent",
        )
        if row is not None:
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"{key} was not sent again")


async def _bounce_signals(temporal: Client, pathway_id: str) -> int:
    history = await temporal.get_workflow_handle(pathway_id).fetch_history()
    return sum(
        1
        for event in history.events
        if event.HasField("workflow_execution_signaled_event_attributes")
        and event.workflow_execution_signaled_event_attributes.signal_name == "message_bounced"
    )


async def _phone_refused_at(pool: asyncpg.Pool, patient_ref: str) -> Any:
    return await pool.fetchval("select phone_refused_at from patients where patient_ref = $1", patient_ref)


async def test_a_prompt_to_a_number_that_does_not_exist_goes_again_by_e_mail_once(
    api: httpx.AsyncClient,
    gateway_client: httpx.AsyncClient,
    pool: asyncpg.Pool,
    temporal: Client,
    provider: RecordingProvider,
) -> None:
    pathway_id, patient_ref = await _refer(api)
    await record_steps_to_relief_check(api, pathway_id)
    prompt = await _sent(pool, pathway_id, "diary_prompt")
    assert prompt["channel"] == "sms"
    for status in ("sent", "undelivered"):  # 30005: unknown destination handset
        report = _report(prompt["provider_message_id"], status, "30005" if status == "undelivered" else None)
        assert (await _post(gateway_client, report)).status_code == 200
    refused_at = await _phone_refused_at(pool, patient_ref)
    assert refused_at is not None

    resent = await _resent(pool, prompt["message_key"])
    assert (resent["channel"], resent["status"], resent["address"]) == ("email", "sent", "ada@example.org")
    [mail] = [m for m in provider.sent if m.key == f"{prompt['message_key']}:resent"]
    assert mail.channel == Channel.EMAIL and "/p/" in mail.body  # the prompt's link, to answer it by
    view = (await api.get(f"/v1/pathways/{pathway_id}")).json()
    assert view["contact"]["sms"] == "refused" and "patient_unreachable" not in view["attention_reasons"]

    # The gateway reports the failure again: the pathway hears of it, and sends the prompt no second time.
    report = _report(prompt["provider_message_id"], "undelivered", "30005")
    assert (await _post(gateway_client, report)).status_code == 200
    assert await _bounce_signals(temporal, pathway_id) == 2
    assert (await api.get(f"/v1/pathways/{pathway_id}")).status_code == 200  # a query: after the signal
    assert [m.key for m in provider.sent].count(f"{prompt['message_key']}:resent") == 1
    assert await _phone_refused_at(pool, patient_ref) == refused_at
    assert await _status(pool, prompt["message_key"]) == "undelivered"


async def test_a_landline_with_no_other_channel_flags_the_patient_unreachable(
    api: httpx.AsyncClient, gateway_client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    pathway_id, _ = await _refer(api, email=None)
    assert (await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=MRI_REVIEW)).status_code == 200
    booked = await _sent(pool, pathway_id, "appointment_booked")
    report = _report(booked["provider_message_id"], "undelivered", "30006")  # landline
    assert (await _post(gateway_client, report)).status_code == 200
    flagged = await poll_view(
        api, pathway_id, "patient unreachable", lambda v: "patient_unreachable" in v["attention_reasons"]
    )
    assert flagged["needs_attention"] and flagged["contact"]["sms"] == "refused"
    resent = await _resent(pool, booked["message_key"])
    assert (resent["status"], resent["last_error"]) == ("suppressed", "no reachable channel")


@pytest.mark.parametrize(
    ("first", "error_code"),
    [
        ("sent", "30003"),  # unreachable handset: switched off or out of signal, which passes
        ("sent", "30007"),  # another failure (filtered as spam): the number is not at fault
        ("delivered", "30005"),  # a late report after delivery: statuses only move forward
    ],
)
async def test_other_failures_and_late_reports_are_only_recorded(
    api: httpx.AsyncClient,
    gateway_client: httpx.AsyncClient,
    pool: asyncpg.Pool,
    temporal: Client,
    first: str,
    error_code: str,
) -> None:
    pathway_id, patient_ref = await _refer(api)
    assert (await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=MRI_REVIEW)).status_code == 200
    booked = await _sent(pool, pathway_id, "appointment_booked")
    for report in (
        _report(booked["provider_message_id"], first),
        _report(booked["provider_message_id"], "undelivered", error_code),
    ):
        assert (await _post(gateway_client, report)).status_code == 200
    final = "delivered" if first == "delivered" else "undelivered"
    assert await _status(pool, booked["message_key"]) == final
    assert await _phone_refused_at(pool, patient_ref) is None
    assert await _bounce_signals(temporal, pathway_id) == 0  # the route answers only once it has signalled


async def test_a_bounce_after_the_pathway_ended_still_refuses_the_number(
    api: httpx.AsyncClient, gateway_client: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client
) -> None:
    pathway_id, patient_ref = await _refer(api)
    assert (await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=MRI_REVIEW)).status_code == 200
    booked = await _sent(pool, pathway_id, "appointment_booked")
    withdrawn = await api.post(f"/v1/pathways/{pathway_id}/withdraw", json={"reason": "moved away"})
    assert withdrawn.status_code == 200, withdrawn.text
    await temporal.get_workflow_handle(pathway_id).result()
    report = _report(booked["provider_message_id"], "undelivered", "30005")
    assert (await _post(gateway_client, report)).status_code == 200
    assert await _phone_refused_at(pool, patient_ref) is not None


async def test_a_report_whose_sid_no_gateway_makes_is_ignored(
    pool: asyncpg.Pool, gateway_client: httpx.AsyncClient
) -> None:
    # PostgreSQL takes no NUL: such a sid was a 500. It is answered 200 and changes nothing.
    key, sid = await _sent_sms(pool)
    answer = await _post(gateway_client, _report(sid + "\x00", "failed", "30005"))
    assert answer.status_code == 200, answer.text
    assert await _status(pool, key) != "failed"
