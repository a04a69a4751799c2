"""A retried send never sends twice: one outbox row per message, one delivery."""

import uuid

import asyncpg
from temporalio.client import Client
from temporalio.worker import Worker

from activities.notifications import NotificationActivities
from activities.providers.base import OutboundMessage, ProviderError
from db.patients import upsert_patient
from db.seed import DEMO_SITE
from domain.notifications import NotificationReceipt, NotificationRequest, Recipient
from domain.referral import Patient
from tests.integration.conftest import RecordingProvider
from tests.integration.outbox_workflow import SendOnce


class FlakyProvider(RecordingProvider):
    """Fails the first attempt at each message, as a gateway having a bad moment would."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0

    async def send(self, message: OutboundMessage) -> str:
        self.attempts += 1
        if self.attempts == 1:
            raise ProviderError("gateway timeout")
        return await super().send(message)


async def _patient(pool: asyncpg.Pool, *, sms_consent: bool = True) -> str:
    patient = Patient(
        mrn=f"MRN-{uuid.uuid4().hex[:8]}",
        given_name="Ada",
        family_name="Example",
        birth_date="1970-01-01",
        phone="+16025550111",
        sms_consent=sms_consent,
    )
    return await upsert_patient(pool, DEMO_SITE, patient)


def _request(patient_ref: str) -> NotificationRequest:
    return NotificationRequest(
        key=f"pathway-t:{uuid.uuid4()}",
        pathway_id="pathway-t",
        recipient=Recipient.PATIENT,
        patient_ref=patient_ref,
        template="diary_prompt",
        params={},
    )


async def test_outbox_holds_one_row_after_an_activity_retry(pool: asyncpg.Pool, temporal: Client) -> None:
    provider = FlakyProvider()
    activities = NotificationActivities(pool, provider, "staff@clinic.example")
    request = _request(await _patient(pool))
    async with Worker(
        temporal, task_queue="outbox-test", workflows=[SendOnce], activities=[activities.send_notification]
    ):
        receipt = await temporal.execute_workflow(
            SendOnce.run, request, id=f"outbox-{uuid.uuid4()}", task_queue="outbox-test"
        )
    assert receipt == NotificationReceipt(status="sent", channel="sms")
    rows = await pool.fetch(
        "select status, attempts, last_error from outbox where message_key = $1", request.key
    )
    assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 2)]
    assert [m.key for m in provider.sent] == [request.key]
    assert provider.sent[0].body.startswith("Hello Ada,")


async def test_sending_the_same_message_again_sends_nothing(pool: asyncpg.Pool) -> None:
    provider = RecordingProvider()
    activities = NotificationActivities(pool, provider, "staff@clinic.example")
    request = _request(await _patient(pool))
    first = await activities.send_notification(request)
    second = await activities.send_notification(request)
    assert first == second == NotificationReceipt(status="sent", channel="sms")
    assert await pool.fetchval("select count(*) from outbox where message_key = $1", request.key) == 1
    assert len(provider.sent) == 1


async def test_unreachable_patient_is_suppressed_not_sent(pool: asyncpg.Pool) -> None:
    provider = RecordingProvider()
    activities = NotificationActivities(pool, provider, "staff@clinic.example")
    # A phone without SMS consent and no e-mail: there is no channel the patient agreed to.
    receipt = await activities.send_notification(_request(await _patient(pool, sms_consent=False)))
    assert receipt.status == "suppressed" and provider.sent == []
