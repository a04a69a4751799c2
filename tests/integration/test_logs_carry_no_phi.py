"""The log lines of a walked pathway: JSON, naming the workflow and activity, and carrying no PHI.

The whole process logs as in production (JSON, level info) while a patient with canary values (names, MRN,
birth date, phone, e-mail) is referred, walked to the relief check, answers the diary by text (a number and
a free-text answer), opens their link page, and is withdrawn with a free-text reason. Every line the API,
the worker, its activities and workflows and the Temporal SDK wrote meanwhile is read: none holds a
canary, nor the patient's link token (the page's address is its credential).
"""

import asyncio
import io
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
import structlog
import temporalio.workflow
from pydantic import SecretStr
from temporalio.client import Client
from twilio.request_validator import RequestValidator

from api.app import create_app
from config.logging import configure_logging
from config.settings import Settings
from tests.integration.conftest import API_KEY, RecordingProvider
from tests.integration.polling import next_action_is, poll_view
from tests.integration.walk import record_steps_to_relief_check
from tests.referrals import referral_body

PUBLIC_URL = "https://dvr.clinic.example"
SMS_TOKEN = "log-test-inbound-auth-token"
SMS_PATH = "/v1/sms/inbound"
LINK = re.compile(r"/p/([A-Za-z0-9_-]{43})")


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Every log line of the process, as production writes them, into a buffer; the logging set-up the
    suite had is put back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    structlog_config = structlog.get_config()
    on_message = temporalio.workflow.logger.workflow_info_on_message
    buffer = io.StringIO()
    configure_logging("info", "json", buffer)
    try:
        yield buffer
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        structlog.configure(**structlog_config)
        temporalio.workflow.logger.workflow_info_on_message = on_message


@pytest.fixture
async def api_and_gateway(
    pool: asyncpg.Pool, temporal: Client, worker: None
) -> AsyncIterator[httpx.AsyncClient]:
    """The demo API, taking both staff calls (with the key) and the SMS gateway's signed webhooks."""
    settings = Settings(
        profile="demo",
        public_url=PUBLIC_URL,
        twilio_auth_token=SecretStr(SMS_TOKEN),
        update_timeout_seconds=20,
    )
    app = create_app(settings, pool=pool, temporal=temporal)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://api.test",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as client:
        yield client


async def text(api: httpx.AsyncClient, sender: str, body: str) -> None:
    """The patient texts `body`, as the gateway's webhook brings it."""
    form = {"MessageSid": f"SM{uuid.uuid4().hex}", "From": sender, "To": "+16025550150", "Body": body}
    signature = RequestValidator(SMS_TOKEN).compute_signature(PUBLIC_URL + SMS_PATH, form)
    answer = await api.post(SMS_PATH, data=form, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200, answer.text


def canaries() -> dict[str, str]:
    tag = uuid.uuid4().hex[:10]
    local = f"602555{2000 + uuid.uuid4().int % 8000:04d}"  # not the other tests' +16025550100
    return {
        "given_name": f"Canarygiven{tag}",
        "family_name": f"Canaryfamily{tag}",
        "mrn": f"MRN-CANARY-{tag}",
        "birth_date": "1931-07-19",
        "phone": f"+1{local}",
        "phone_digits": local,
        "email": f"canary.{tag}@example.org",
        "reason": f"moved to Tucson {tag} to live with her daughter",
        "diary_text": f"it burns down my leg {tag}",
    }


async def link_token_sent_to(provider: RecordingProvider, phone: str) -> str:
    """The token of the patient's link in a message sent to `phone` (a diary prompt), once one went out."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        for message in provider.sent:
            found = LINK.search(message.body)
            if message.address == phone and found:
                return found.group(1)
        assert asyncio.get_running_loop().time() < deadline, "no message with the patient's link went out"
        await asyncio.sleep(0.1)


def lines_of(buffer: io.StringIO) -> list[dict[str, Any]]:
    """Each line as the JSON object it must be."""
    parsed = []
    for line in buffer.getvalue().splitlines():
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"a log line that is not JSON: {line!r}") from None
    return parsed


async def test_a_walked_pathway_logs_json_with_its_ids_and_no_phi(
    json_logs: io.StringIO,
    api_and_gateway: httpx.AsyncClient,
    temporal: Client,
    provider: RecordingProvider,
) -> None:
    api, canary = api_and_gateway, canaries()
    body = referral_body(f"REF-LOGS-{uuid.uuid4().hex[:10]}")
    body["patient"] |= {
        key: canary[key] for key in ("given_name", "family_name", "mrn", "birth_date", "phone", "email")
    }
    created = await api.post("/v1/referrals", json=body)
    assert created.status_code == 201, created.text
    pathway_id: str = created.json()["pathway_id"]
    await poll_view(api, pathway_id, "mri review due", next_action_is("mri_review"))
    await record_steps_to_relief_check(api, pathway_id)

    await text(api, canary["phone"], canary["diary_text"])  # not a score: answered with how to answer
    await text(api, canary["phone"], "2")
    await poll_view(api, pathway_id, "the texted report", lambda v: len(v["relief_check"]["reports"]) == 1)
    token = await link_token_sent_to(provider, canary["phone"])
    page = await api.get(f"/p/{token}")
    assert page.status_code == 200, page.text

    withdrawn = await api.post(f"/v1/pathways/{pathway_id}/withdraw", json={"reason": canary["reason"]})
    assert withdrawn.status_code == 200, withdrawn.text
    # The pathway ends once its closing letter went out: every activity it ran has logged by then.
    await asyncio.wait_for(temporal.get_workflow_handle(pathway_id).result(), timeout=60)

    lines = lines_of(json_logs)
    secrets = {**canary, "link token": token}
    for line in lines:
        text_of_line = json.dumps(line).lower()
        for name, value in secrets.items():
            assert value.lower() not in text_of_line, f"the {name} is in a log line: {line}"

    ours = [line for line in lines if str(line.get("workflow_id", "")).startswith(pathway_id)]
    sent = [line for line in ours if line["event"] == "notification.sent"]
    assert sent, f"no activity line of the pathway's sends among {len(lines)} lines"
    for line in sent:
        assert line["activity_type"] == "send_notification", line
        assert line["run_id"] and line["workflow_type"] in ("PatientPathway", "ReliefCheck"), line
    booked = [line for line in ours if line["event"] == "appointment.booked"]
    assert booked and all(line["activity_type"] == "book_appointment" for line in booked), booked
    assert any(line["event"] == "sms.inbound" for line in lines), "the texts' lines are missing"
