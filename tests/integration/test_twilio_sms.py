"""SMS through a Twilio-compatible API, against a real local HTTP server that speaks it, under Temporal's
retries: sent once whatever the gateway does, an invalid number makes the patient unreachable."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker
from twilio.request_validator import RequestValidator

from activities.notifications import UNSURE_RETRY_SECONDS, NotificationActivities
from activities.providers.base import MessageRejected, OutboundMessage, ProviderError
from activities.providers.by_channel import ByChannel
from activities.providers.twilio_sms import TwilioSms
from api.app import create_app
from api.views import with_contact
from config.settings import Settings
from db.patients import change_contact, contact_for, register_patient
from db.seed import DEMO_SITE
from domain.notifications import (
    Channel,
    NotificationReceipt,
    NotificationRequest,
    ReceiptStatus,
    Recipient,
)
from domain.referral import Patient
from domain.view import PathwayView, SmsStatus
from tests.integration.conftest import RecordingProvider
from tests.integration.outbox_workflow import SendOnce
from tests.integration.sms_gateway import ACCOUNT_SID, AUTH_TOKEN, FakeSmsGateway

SENDER = "+16025550100"
PHONE = "+16025550123"
CALLBACK = "https://dvr.clinic.example/v1/sms/status"
STAFF = "staff@clinic.example"
TIMEOUT = 0.5  # the provider's per-request timeout here; the gateway's slow answer takes longer
SENT_BY_SMS = NotificationReceipt(status=ReceiptStatus.SENT, channel=Channel.SMS)


@pytest.fixture
async def gateway() -> AsyncIterator[FakeSmsGateway]:
    gateway = FakeSmsGateway(slow_seconds=TIMEOUT * 3)
    await gateway.start()
    yield gateway
    await gateway.stop()


@pytest.fixture
async def sms(gateway: FakeSmsGateway) -> AsyncIterator[TwilioSms]:
    async with httpx.AsyncClient() as http:
        yield TwilioSms(
            http,
            account_sid=ACCOUNT_SID,
            auth_token=SecretStr(AUTH_TOKEN),
            sender=SENDER,
            status_callback=CALLBACK,
            api_base=gateway.base_url,
            timeout=TIMEOUT,
        )


async def _patient_request(
    pool: asyncpg.Pool, email: str | None = None, phone: str = PHONE
) -> NotificationRequest:
    patient = Patient(
        mrn=f"MRN-{uuid.uuid4().hex[:8]}",
        given_name="Ada",
        family_name="Example",
        birth_date="1970-01-01",
        phone=phone,
        email=email,
        sms_consent=True,
    )
    patient_ref = (await register_patient(pool, DEMO_SITE, patient)).patient_ref
    return NotificationRequest(
        key=f"pathway-sms:{uuid.uuid4()}",
        pathway_id="pathway-sms",
        recipient=Recipient.PATIENT,
        patient_ref=patient_ref,
        template="diary_prompt",
    )


async def _send_with_retries(
    temporal: Client, activities: NotificationActivities, request: NotificationRequest
) -> NotificationReceipt:
    queue = f"sms-{uuid.uuid4()}"
    async with Worker(
        temporal, task_queue=queue, workflows=[SendOnce], activities=[activities.send_notification]
    ):
        receipt: NotificationReceipt = await temporal.execute_workflow(
            SendOnce.run, request, id=f"sms-{uuid.uuid4()}", task_queue=queue
        )
    return receipt


async def _row(pool: asyncpg.Pool, key: str) -> asyncpg.Record:
    row = await pool.fetchrow(
        "select status, attempts, provider_message_id, last_error, unsettled_since from outbox"
        " where message_key = $1",
        key,
    )
    assert row is not None
    return row


async def test_a_message_is_sent_with_its_callback_and_its_sid_kept(
    pool: asyncpg.Pool, temporal: Client, gateway: FakeSmsGateway, sms: TwilioSms
) -> None:
    request = await _patient_request(pool)
    receipt = await _send_with_retries(temporal, NotificationActivities(pool, sms, STAFF), request)
    assert receipt == SENT_BY_SMS
    [message] = gateway.messages
    assert (message["to"], message["from"], message["status_callback"]) == (PHONE, SENDER, CALLBACK)
    assert message["body"].startswith("Hello Ada,")
    row = await _row(pool, request.key)
    assert (row["status"], row["provider_message_id"], row["unsettled_since"]) == (
        "sent",
        message["sid"],
        None,
    )
    assert gateway.lookups == 0  # nothing was in doubt


async def test_an_invalid_number_with_no_other_channel_makes_the_patient_unreachable(
    pool: asyncpg.Pool, temporal: Client, gateway: FakeSmsGateway, sms: TwilioSms
) -> None:
    gateway.faults = ["400:21211"]
    request = await _patient_request(pool)
    receipt = await _send_with_retries(temporal, NotificationActivities(pool, sms, STAFF), request)
    # The workflow's messenger raises "patient unreachable" on a suppressed receipt.
    assert receipt == NotificationReceipt(status=ReceiptStatus.SUPPRESSED)
    assert gateway.creates == 1 and gateway.messages == []  # the refused number is not tried again
    row = await _row(pool, request.key)
    assert row["status"] == "suppressed" and row["last_error"] == "no reachable channel"
    assert request.patient_ref is not None
    contact = await contact_for(pool, request.patient_ref)
    assert contact is not None and contact.phone_refused


async def test_an_invalid_number_sends_the_message_by_e_mail_instead(
    pool: asyncpg.Pool, temporal: Client, gateway: FakeSmsGateway, sms: TwilioSms
) -> None:
    gateway.faults = ["400:21614"]
    request = await _patient_request(pool, email="ada@example.org")
    mail = RecordingProvider()
    activities = NotificationActivities(pool, ByChannel(email=mail, sms=sms), STAFF)
    receipt = await _send_with_retries(temporal, activities, request)
    assert receipt == NotificationReceipt(status=ReceiptStatus.SENT, channel=Channel.EMAIL)
    assert [m.address for m in mail.sent] == ["ada@example.org"] and gateway.messages == []
    # The next message goes by e-mail at once; a new number is tried by SMS again.
    again = request.model_copy(update={"key": f"pathway-sms:{uuid.uuid4()}"})
    assert await _send_with_retries(temporal, activities, again) == receipt
    assert gateway.creates == 1
    assert request.patient_ref is not None
    await change_contact(pool, request.patient_ref, {"phone": "+16025550124"})
    third = request.model_copy(update={"key": f"pathway-sms:{uuid.uuid4()}"})
    assert await _send_with_retries(temporal, activities, third) == SENT_BY_SMS


async def _sms_in_view(pool: asyncpg.Pool, patient_ref: str | None) -> SmsStatus | None:
    """`contact.sms` as the pathway view shows it for the patient."""
    assert patient_ref is not None
    view = PathwayView(
        pathway_id="pathway-sms", clinic_site=DEMO_SITE, patient_ref=patient_ref, profile="demo"
    )
    async with pool.acquire() as conn:
        shown = await with_contact(conn, view)
    return shown.contact.sms if shown.contact else None


async def _text_in(pool: asyncpg.Pool, temporal: Client, sender: str, body: str) -> None:
    """The patient texts `body` to the clinic: the gateway's signed webhook to the API."""
    public_url, token = "https://dvr.clinic.example", "inbound-auth-token"
    settings = Settings(profile="demo", public_url=public_url, twilio_auth_token=SecretStr(token))
    form = {"MessageSid": f"SM{uuid.uuid4().hex}", "From": sender, "To": SENDER, "Body": body}
    signature = RequestValidator(token).compute_signature(f"{public_url}/v1/sms/inbound", form)
    app = create_app(settings, pool=pool, temporal=temporal)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api:
        answer = await api.post("/v1/sms/inbound", data=form, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200, answer.text


async def test_a_number_unsubscribed_at_the_gateway_is_an_opt_out_that_start_lifts(
    pool: asyncpg.Pool, temporal: Client, gateway: FakeSmsGateway, sms: TwilioSms
) -> None:
    phone = "+16025550125"  # its own: an opt-out covers every patient with the number
    gateway.faults = ["400:21610"]
    request = await _patient_request(pool, email="ada@example.org", phone=phone)
    mail = RecordingProvider()
    activities = NotificationActivities(pool, ByChannel(email=mail, sms=sms), STAFF)
    receipt = await _send_with_retries(temporal, activities, request)
    # As after a STOP texted to us: the number opted out, the message by e-mail.
    assert receipt == NotificationReceipt(status=ReceiptStatus.SENT, channel=Channel.EMAIL)
    assert [m.address for m in mail.sent] == ["ada@example.org"] and gateway.messages == []
    assert await _sms_in_view(pool, request.patient_ref) == "opted_out"
    opted = await pool.fetchrow("select source from sms_opt_outs where phone_e164 = $1", phone)
    assert opted is not None and opted["source"] == "gateway"
    audited = await pool.fetchval(
        "select detail->>'source' from audit_log where action = 'patient.sms.opted_out' and patient_ref = $1",
        request.patient_ref,
    )
    assert audited == "gateway"

    await _text_in(pool, temporal, phone, "START")
    assert await _sms_in_view(pool, request.patient_ref) == "active"
    again = request.model_copy(update={"key": f"pathway-sms:{uuid.uuid4()}"})
    assert await _send_with_retries(temporal, activities, again) == SENT_BY_SMS
    assert [m["to"] for m in gateway.messages] == [phone] and len(mail.sent) == 1


async def test_a_number_unsubscribed_at_the_gateway_with_no_other_channel_makes_the_patient_unreachable(
    pool: asyncpg.Pool, temporal: Client, gateway: FakeSmsGateway, sms: TwilioSms
) -> None:
    phone = "+16025550126"
    gateway.faults = ["400:21610"]
    request = await _patient_request(pool, phone=phone)
    receipt = await _send_with_retries(temporal, NotificationActivities(pool, sms, STAFF), request)
    assert receipt == NotificationReceipt(status=ReceiptStatus.SUPPRESSED)
    assert await _sms_in_view(pool, request.patient_ref) == "opted_out"
    await _text_in(pool, temporal, phone, "UNSTOP")
    assert await _sms_in_view(pool, request.patient_ref) == "active"


async def test_another_refusal_fails_the_message_without_a_retry(
    pool: asyncpg.Pool, gateway: FakeSmsGateway, sms: TwilioSms
) -> None:
    gateway.faults = ["400:21606"]  # the sender cannot send SMS: not the patient's doing
    request = await _patient_request(pool)
    with pytest.raises(ApplicationError) as refused:
        await NotificationActivities(pool, sms, STAFF).send_notification(request)
    assert refused.value.type == "MessageRejected" and refused.value.non_retryable
    assert PHONE not in str(refused.value)
    assert (await _row(pool, request.key))["status"] == "failed"


async def test_an_invalid_on_call_number_is_a_refusal_not_an_unreachable_patient(
    pool: asyncpg.Pool, gateway: FakeSmsGateway, sms: TwilioSms
) -> None:
    gateway.faults = ["400:21211"]
    activities = NotificationActivities(pool, sms, STAFF, staff_urgent=(Channel.SMS, "+16025550199"))
    request = NotificationRequest(
        key=f"pathway-sms:{uuid.uuid4()}",
        pathway_id="pathway-sms",
        recipient=Recipient.STAFF_URGENT,
        patient_ref=None,
        template="urgent_red_flags",
        params={"pathway_id": "pathway-sms", "red_flags": "fever"},
    )
    # A failure, so the messenger falls back to the staff mailbox.
    with pytest.raises(ApplicationError) as refused:
        await activities.send_notification(request)
    assert refused.value.type == "MessageRejected"


async def test_a_server_error_is_retried_and_sends_one_message(
    pool: asyncpg.Pool, temporal: Client, gateway: FakeSmsGateway, sms: TwilioSms
) -> None:
    gateway.faults = ["500"]
    request = await _patient_request(pool)
    receipt = await _send_with_retries(temporal, NotificationActivities(pool, sms, STAFF), request)
    assert receipt == SENT_BY_SMS
    assert gateway.creates == 2 and len(gateway.messages) == 1
    row = await _row(pool, request.key)
    assert (row["status"], row["attempts"], row["provider_message_id"]) == (
        "sent",
        2,
        gateway.messages[0]["sid"],
    )
    assert gateway.lookups == 1  # a 5xx leaves the outcome in doubt: the retry asked first


async def test_a_timeout_is_retried_and_sends_one_message(
    pool: asyncpg.Pool, temporal: Client, gateway: FakeSmsGateway, sms: TwilioSms
) -> None:
    gateway.faults = ["slow"]
    request = await _patient_request(pool)
    receipt = await _send_with_retries(temporal, NotificationActivities(pool, sms, STAFF), request)
    assert receipt == SENT_BY_SMS
    assert gateway.creates == 2 and len(gateway.messages) == 1
    assert (await _row(pool, request.key))["provider_message_id"] == gateway.messages[0]["sid"]


async def test_a_reset_after_the_gateway_took_the_message_does_not_send_it_again(
    pool: asyncpg.Pool, temporal: Client, gateway: FakeSmsGateway, sms: TwilioSms
) -> None:
    gateway.faults = ["reset"]
    request = await _patient_request(pool)
    receipt = await _send_with_retries(temporal, NotificationActivities(pool, sms, STAFF), request)
    assert receipt == SENT_BY_SMS
    [message] = gateway.messages
    # Found while still in the gateway's queue, with no date_sent yet.
    assert (message["status"], message["date_sent"]) == ("queued", None)
    assert gateway.creates == 1 and gateway.lookups == 1
    row = await _row(pool, request.key)
    assert (row["status"], row["attempts"], row["provider_message_id"]) == ("sent", 2, message["sid"])
    assert row["unsettled_since"] is None


async def test_a_worker_that_died_mid_send_is_reconciled_by_the_next_attempt(
    pool: asyncpg.Pool, gateway: FakeSmsGateway, sms: TwilioSms
) -> None:
    # The gateway took the message; the worker died before recording it (its claim lapses at once).
    request = await _patient_request(pool)
    await NotificationActivities(pool, sms, STAFF, claim_lease=timedelta(0)).send_notification(request)
    await pool.execute(
        "update outbox set status = 'sending', claim_token = gen_random_uuid(), claimed_until = now(),"
        " provider_message_id = null, unsettled_since = now() - interval '1 second' where message_key = $1",
        request.key,
    )
    assert await NotificationActivities(pool, sms, STAFF).send_notification(request) == SENT_BY_SMS
    [message] = gateway.messages
    assert (await _row(pool, request.key))["provider_message_id"] == message["sid"]


async def _twin_prompts_first_in_doubt(
    pool: asyncpg.Pool, gateway: FakeSmsGateway, sms: TwilioSms
) -> tuple[NotificationRequest, NotificationRequest, NotificationActivities]:
    """Two prompts that read the same: the first met a 5xx (in doubt), the second went out."""
    first = await _patient_request(pool)
    second = first.model_copy(update={"key": f"{first.key}-2"})
    activities = NotificationActivities(pool, sms, STAFF)
    gateway.faults = ["500"]
    with pytest.raises(ApplicationError):
        await activities.send_notification(first)
    assert await activities.send_notification(second) == SENT_BY_SMS
    return first, second, activities


async def test_a_message_in_doubt_is_not_taken_for_another_sent_with_the_same_words(
    pool: asyncpg.Pool, gateway: FakeSmsGateway, sms: TwilioSms
) -> None:
    """Two diary prompts read the same. The first meets a 5xx (nothing taken, but the outcome is in doubt),
    the second goes out; the first's retry must not take the second's message for its own, or the patient
    gets one prompt where the outbox says two."""
    first, second, activities = await _twin_prompts_first_in_doubt(pool, gateway, sms)
    assert await activities.send_notification(first) == SENT_BY_SMS  # its retry: asks, then sends
    assert len(gateway.messages) == 2 and gateway.lookups == 1
    assert gateway.messages[0]["body"] == gateway.messages[1]["body"]
    sids = {(await _row(pool, r.key))["provider_message_id"] for r in (first, second)}
    assert sids == {m["sid"] for m in gateway.messages}


async def test_a_message_in_doubt_waits_for_another_being_sent_with_the_same_words(
    pool: asyncpg.Pool, gateway: FakeSmsGateway, sms: TwilioSms
) -> None:
    """As above, but the first's retry asks while the second's attempt has had the gateway's answer and not
    yet recorded it: the second's message is not known to be taken, so the retry waits for it."""
    first, second, activities = await _twin_prompts_first_in_doubt(pool, gateway, sms)
    [taken] = gateway.messages
    # The second's attempt between the gateway's answer and its record.
    await pool.execute(
        "update outbox set status = 'sending', claim_token = gen_random_uuid(),"
        " claimed_until = now() + interval '1 minute', provider_message_id = null, unsettled_since = now()"
        " where message_key = $1",
        second.key,
    )
    with pytest.raises(ApplicationError) as waited:
        await activities.send_notification(first)
    assert waited.value.type == "DeliveryFailed" and not waited.value.non_retryable
    # Its retry comes after a delay drawn from a span: two messages waiting on each other fall out of step.
    low, high = UNSURE_RETRY_SECONDS
    delay = waited.value.next_retry_delay
    assert delay is not None and low <= delay.total_seconds() <= high
    row = await _row(pool, first.key)
    assert (row["status"], row["provider_message_id"]) == ("pending", None)
    assert row["unsettled_since"] is not None  # still in doubt: the next attempt asks again
    assert len(gateway.messages) == 1

    # The second records its message; the first's next attempt skips it, and sends.
    await pool.execute(
        "update outbox set status = 'sent', claim_token = null, claimed_until = null,"
        " provider_message_id = $2, unsettled_since = null where message_key = $1",
        second.key,
        taken["sid"],
    )
    assert await activities.send_notification(first) == SENT_BY_SMS
    assert len(gateway.messages) == 2
    assert (await _row(pool, first.key))["provider_message_id"] == gateway.messages[1]["sid"]


async def test_the_lookup_skips_messages_already_recorded_for_others(
    gateway: FakeSmsGateway, sms: TwilioSms
) -> None:
    message = OutboundMessage(key="k", channel=Channel.SMS, address=PHONE, subject="", body="Pain now?")
    since = datetime.now(UTC) - timedelta(seconds=5)
    await sms.send(message)
    await sms.send(message)
    first, second = (m["sid"] for m in gateway.messages)
    assert await sms.find_sent(message, since) in {first, second}
    assert await sms.find_sent(message, since, taken=frozenset({first})) == second
    assert await sms.find_sent(message, since, taken=frozenset({second})) == first
    assert await sms.find_sent(message, since, taken=frozenset({first, second})) is None


async def test_the_lookup_ignores_the_same_text_sent_before_the_attempt(
    gateway: FakeSmsGateway, sms: TwilioSms
) -> None:
    message = OutboundMessage(
        key="pathway-sms:k", channel=Channel.SMS, address=PHONE, subject="", body="How is your pain?"
    )
    await sms.send(message)  # yesterday's prompt with the same words
    gateway.messages[0]["date_created"] = "Mon, 01 Jan 2024 09:00:00 +0000"
    assert await sms.find_sent(message, since=datetime.now(UTC)) is None
    await sms.send(message)
    assert (
        await sms.find_sent(message, since=datetime.now(UTC) - timedelta(seconds=5))
        == gateway.messages[1]["sid"]
    )


async def test_the_lookup_pages_through_the_window_and_stops_at_older_messages(
    gateway: FakeSmsGateway, sms: TwilioSms
) -> None:
    gateway.page_size = 2

    def message(body: str) -> OutboundMessage:
        return OutboundMessage(key=f"k-{body}", channel=Channel.SMS, address=PHONE, subject="", body=body)

    for n in range(4):  # earlier texts to the number, long sent
        await sms.send(message(f"old {n}"))
        day = f"Mon, 0{n + 1} Jan 2024 09:00:00 +0000"
        gateway.messages[-1].update(status="delivered", date_created=day, date_sent=day)
    since = datetime.now(UTC)
    ours = message("How is your pain?")
    await sms.send(ours)
    gateway.send_queued()  # ours has left the queue: listed by its date_sent, after the two below
    await sms.send(message("other 1"))
    await sms.send(message("other 2"))
    # Page 1: the two others (queued); page 2: ours and the newest old one, which ends the lookup.
    assert await sms.find_sent(ours, since) == gateway.messages[4]["sid"]
    assert gateway.lookups == 2
    assert await sms.find_sent(message("never sent"), since) is None
    assert gateway.lookups == 4  # the same two pages, not the three after them


async def test_errors_name_neither_the_number_nor_the_token(gateway: FakeSmsGateway) -> None:
    async with httpx.AsyncClient() as http:
        wrong = TwilioSms(
            http,
            account_sid=ACCOUNT_SID,
            auth_token=SecretStr("not-the-token"),
            sender=SENDER,
            status_callback=None,
            api_base=gateway.base_url,
        )
        message = OutboundMessage(key="k", channel=Channel.SMS, address=PHONE, subject="", body="x")
        with pytest.raises(MessageRejected) as refused:
            await wrong.send(message)
    assert str(refused.value) == "twilio refused (401, code 20003)"
    assert "not-the-token" not in repr(wrong)


async def test_a_gateway_that_is_down_is_retried_with_nothing_in_doubt(gateway: FakeSmsGateway) -> None:
    base = gateway.base_url
    await gateway.stop()
    async with httpx.AsyncClient() as http:
        down = TwilioSms(
            http,
            account_sid=ACCOUNT_SID,
            auth_token=SecretStr(AUTH_TOKEN),
            sender=SENDER,
            status_callback=None,
            api_base=base,
        )
        message = OutboundMessage(key="k", channel=Channel.SMS, address=PHONE, subject="", body="x")
        with pytest.raises(ProviderError) as failed:
            await down.send(message)
    assert not isinstance(failed.value, MessageRejected) and not failed.value.outcome_unknown
