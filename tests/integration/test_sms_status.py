"""`POST /v1/sms/status`: signed delivery reports move a sent SMS's status forward, and only forward."""

import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs
from temporalio.client import Client
from twilio.request_validator import RequestValidator

from api.app import create_app
from config.settings import Settings

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


def _report(sid: str, status: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "MessageStatus": status,
        "To": PHONE,
        "AccountSid": "AC1",
        "ApiVersion": "2010-04-01",
    }


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
