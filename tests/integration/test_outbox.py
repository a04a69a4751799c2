"""The outbox: a retried send never sends twice, and no database connection waits on a provider."""

import asyncio
import uuid
from datetime import timedelta

import asyncpg
import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.notifications import NotificationActivities
from activities.providers.base import OutboundMessage, ProviderError
from db.patients import register_patient
from db.pool import create_pool
from db.seed import DEMO_SITE
from domain.notifications import (
    Channel,
    NotificationReceipt,
    NotificationRequest,
    ReceiptStatus,
    Recipient,
    UndeliveredMessage,
)
from domain.referral import Patient
from tests.integration.conftest import RecordingProvider
from tests.integration.outbox_workflow import SendOnce, SendOrGiveUp, SendUntilDelivered

STAFF = "staff@clinic.example"
PHONE = "+16025550111"
ON_CALL = "+16025550199"
SENT_BY_SMS = NotificationReceipt(status=ReceiptStatus.SENT, channel=Channel.SMS)
WAIT = 10  # seconds: a bound on waiting for an event that should come at once, never a delay


class FlakyProvider(RecordingProvider):
    """Fails the first attempt at each message, as a gateway having a bad moment would."""

    def __init__(self) -> None:
        super().__init__()
        self.handed: list[str] = []

    async def send(self, message: OutboundMessage) -> str:
        self.handed.append(message.key)
        if len(self.handed) == 1:
            raise ProviderError("gateway timeout")
        return await super().send(message)


class FailingProvider(RecordingProvider):
    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0

    async def send(self, message: OutboundMessage) -> str:
        self.attempts += 1
        raise ProviderError("gateway unavailable")


class GatedProvider(RecordingProvider):
    """Takes the message, then waits until the test opens the gate before answering."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    async def send(self, message: OutboundMessage) -> str:
        self.sent.append(message)
        self.entered.set()
        await self.gate.wait()
        return f"gated-{len(self.sent)}"


class CrashingProvider(RecordingProvider):
    """The worker dies mid-send: the call is cancelled and the activity never records an outcome."""

    async def send(self, message: OutboundMessage) -> str:
        self.sent.append(message)
        raise asyncio.CancelledError


class ObservedActivities(NotificationActivities):
    """The real activity, telling the test when an attempt found the message claimed by another."""

    def __init__(self, pool: asyncpg.Pool, provider: RecordingProvider) -> None:
        super().__init__(pool, provider, STAFF)
        self.found_in_progress = asyncio.Event()

    @activity.defn(name="send_notification")
    async def send_notification(self, request: NotificationRequest) -> NotificationReceipt:
        try:
            return await super().send_notification(request)
        except ApplicationError as err:
            if err.type == "DeliveryInProgress":
                self.found_in_progress.set()
            raise


async def _patient(pool: asyncpg.Pool, *, sms_consent: bool = True, language: str = "en") -> str:
    patient = Patient(
        preferred_language=language,
        mrn=f"MRN-{uuid.uuid4().hex[:8]}",
        given_name="Ada",
        family_name="Example",
        birth_date="1970-01-01",
        phone=PHONE,
        sms_consent=sms_consent,
    )
    patient_ref = (await register_patient(pool, DEMO_SITE, patient)).patient_ref
    return patient_ref


def _request(patient_ref: str | None, *, template: str = "diary_prompt") -> NotificationRequest:
    return NotificationRequest(
        key=f"pathway-t:{uuid.uuid4()}",
        pathway_id="pathway-t",
        recipient=Recipient.PATIENT if patient_ref else Recipient.STAFF,
        patient_ref=patient_ref,
        template=template if patient_ref else "staff_attention",
        params={} if patient_ref else {"pathway_id": "pathway-t", "reason": "test"},
    )


async def _row(pool: asyncpg.Pool, key: str) -> asyncpg.Record:
    row = await pool.fetchrow(
        "select status, attempts, last_error, claim_token, claimed_until from outbox where message_key = $1",
        key,
    )
    assert row is not None
    return row


async def test_outbox_holds_one_row_after_an_activity_retry(pool: asyncpg.Pool, temporal: Client) -> None:
    provider = FlakyProvider()
    activities = NotificationActivities(pool, provider, STAFF)
    request = _request(await _patient(pool))
    async with Worker(
        temporal, task_queue="outbox-test", workflows=[SendOnce], activities=[activities.send_notification]
    ):
        receipt = await temporal.execute_workflow(
            SendOnce.run, request, id=f"outbox-{uuid.uuid4()}", task_queue="outbox-test"
        )
    assert receipt == SENT_BY_SMS
    rows = await pool.fetch(
        "select status, attempts, last_error from outbox where message_key = $1", request.key
    )
    assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 2)]
    assert [m.key for m in provider.sent] == [request.key]
    assert provider.sent[0].body.startswith("Hello Ada,")


@pytest.mark.parametrize(
    ("language", "opening"), [("en", "Hello Ada, your medial"), ("es", "Hola Ada, su cita de bloqueo")]
)
async def test_a_patient_gets_the_text_of_their_channel_language_and_clinic(
    pool: asyncpg.Pool, language: str, opening: str
) -> None:
    provider = RecordingProvider()
    activities = NotificationActivities(pool, provider, STAFF)
    request = _request(await _patient(pool, language=language), template="appointment_booked")
    request = request.model_copy(update={"params": {"kind": "block", "when": "Tue 25 Nov 09:30 MST"}})
    assert await activities.send_notification(request) == SENT_BY_SMS
    (sent,) = provider.sent
    assert sent.subject == "" and "\n" not in sent.body  # an SMS: its one line, no subject
    assert sent.body.startswith(opening)
    assert "Phoenix Spine & Joint (demo)" in sent.body  # the clinic's name, from the clinics table
    assert "1 Demo Way, Suite 100, Phoenix, AZ 85004" in sent.body  # and its address: where to go
    assert "Example" not in sent.body  # the first name only


async def test_sending_the_same_message_again_sends_nothing(pool: asyncpg.Pool) -> None:
    provider = RecordingProvider()
    activities = NotificationActivities(pool, provider, STAFF)
    request = _request(await _patient(pool))
    first = await activities.send_notification(request)
    second = await activities.send_notification(request)
    assert first == second == SENT_BY_SMS
    assert await pool.fetchval("select count(*) from outbox where message_key = $1", request.key) == 1
    assert len(provider.sent) == 1


async def test_unreachable_patient_is_suppressed_not_sent(pool: asyncpg.Pool) -> None:
    provider = RecordingProvider()
    activities = NotificationActivities(pool, provider, STAFF)
    # A phone without SMS consent and no e-mail: there is no channel the patient agreed to.
    request = _request(await _patient(pool, sms_consent=False))
    receipt = await activities.send_notification(request)
    assert receipt == NotificationReceipt(status=ReceiptStatus.SUPPRESSED)
    assert provider.sent == []
    assert await activities.send_notification(request) == receipt


async def test_the_provider_gets_the_message_key_as_its_idempotency_key(pool: asyncpg.Pool) -> None:
    provider = FlakyProvider()
    activities = NotificationActivities(pool, provider, STAFF)
    patient_request, staff_request = _request(await _patient(pool)), _request(None)
    with pytest.raises(ApplicationError):
        await activities.send_notification(patient_request)
    await activities.send_notification(patient_request)
    await activities.send_notification(staff_request)
    # The failed attempt and its retry carried the same key, so a provider can tell them apart from
    # two messages.
    assert provider.handed == [patient_request.key, patient_request.key, staff_request.key]
    assert [(m.key, m.channel, m.address) for m in provider.sent] == [
        (patient_request.key, Channel.SMS, PHONE),
        (staff_request.key, Channel.EMAIL, STAFF),
    ]


async def test_urgent_staff_messages_go_to_the_urgent_channel_and_routine_ones_do_not(
    pool: asyncpg.Pool,
) -> None:
    provider = RecordingProvider()
    activities = NotificationActivities(pool, provider, STAFF, staff_urgent=(Channel.SMS, ON_CALL))
    params = {"pathway_id": "pathway-t", "red_flags": "new_weakness"}
    urgent = _request(None).model_copy(
        update={"recipient": Recipient.STAFF_URGENT, "template": "urgent_red_flags", "params": params}
    )
    routine = _request(None)
    assert await activities.send_notification(urgent) == SENT_BY_SMS
    await activities.send_notification(routine)
    assert [(m.key, m.channel, m.address) for m in provider.sent] == [
        (urgent.key, Channel.SMS, ON_CALL),
        (routine.key, Channel.EMAIL, STAFF),
    ]
    assert provider.sent[0].body.startswith("URGENT: ")  # an SMS shows no subject
    assert "Ada" not in provider.sent[0].body  # the pathway id and the codes only
    rows = await pool.fetch(
        "select recipient, channel, address from outbox where message_key = any($1) order by id",
        [urgent.key, routine.key],
    )
    assert [tuple(r) for r in rows] == [("staff_urgent", "sms", ON_CALL), ("staff", "email", STAFF)]


async def test_without_an_urgent_channel_urgent_messages_go_to_the_staff_mailbox_marked_urgent(
    pool: asyncpg.Pool,
) -> None:
    provider = RecordingProvider()
    activities = NotificationActivities(pool, provider, STAFF)
    params = {"pathway_id": "pathway-t", "red_flags": "fever"}
    urgent = _request(None).model_copy(
        update={"recipient": Recipient.STAFF_URGENT, "template": "urgent_red_flags", "params": params}
    )
    await activities.send_notification(urgent)
    [sent] = provider.sent
    assert (sent.channel, sent.address) == (Channel.EMAIL, STAFF)
    assert sent.subject.startswith("URGENT: ") and sent.body.startswith("URGENT: ")


async def test_no_lock_or_connection_is_held_while_the_provider_sends(database: str) -> None:
    # A pool of one connection: if the activity kept it during the provider call, nothing else could run.
    small = await create_pool(database, min_size=1, max_size=1)
    provider = GatedProvider()
    activities = NotificationActivities(small, provider, STAFF)
    request = _request(await _patient(small))
    sending = asyncio.create_task(activities.send_notification(request))
    try:
        await asyncio.wait_for(provider.entered.wait(), WAIT)
        async with small.acquire(timeout=WAIT) as conn, conn.transaction():
            status = await conn.fetchval(
                "select status from outbox where message_key = $1 for update nowait", request.key
            )
        assert status == "sending"
    finally:
        provider.gate.set()
        receipt = await sending
        await small.close()
    assert receipt == SENT_BY_SMS


async def test_a_second_attempt_while_the_first_is_sending_does_not_send(pool: asyncpg.Pool) -> None:
    provider = GatedProvider()
    activities = NotificationActivities(pool, provider, STAFF)
    request = _request(await _patient(pool))
    first = asyncio.create_task(activities.send_notification(request))
    try:
        await asyncio.wait_for(provider.entered.wait(), WAIT)
        with pytest.raises(ApplicationError) as refused:
            await activities.send_notification(request)
        assert refused.value.type == "DeliveryInProgress"
        assert not refused.value.non_retryable
    finally:
        provider.gate.set()
        receipt = await first
    assert receipt == SENT_BY_SMS
    assert await activities.send_notification(request) == SENT_BY_SMS
    assert [m.key for m in provider.sent] == [request.key]
    row = await _row(pool, request.key)
    assert (row["status"], row["attempts"], row["claim_token"]) == ("sent", 1, None)


async def test_a_crashed_send_is_sent_by_the_retry_once_its_claim_lapses(
    pool: asyncpg.Pool, temporal: Client
) -> None:
    request = _request(await _patient(pool))
    crashing = CrashingProvider()
    with pytest.raises(asyncio.CancelledError):
        await NotificationActivities(pool, crashing, STAFF).send_notification(request)
    assert (await _row(pool, request.key))["status"] == "sending"

    provider = RecordingProvider()
    activities = ObservedActivities(pool, provider)
    async with Worker(
        temporal,
        task_queue="outbox-crash-test",
        workflows=[SendUntilDelivered],
        activities=[activities.send_notification],
    ):
        handle = await temporal.start_workflow(
            SendUntilDelivered.run, request, id=f"outbox-{uuid.uuid4()}", task_queue="outbox-crash-test"
        )
        # The retry finds the crashed attempt's claim still holding and backs off without sending.
        await asyncio.wait_for(activities.found_in_progress.wait(), WAIT)
        assert provider.sent == []
        # The claim lapses (its lease ends now rather than in a minute).
        await pool.execute("update outbox set claimed_until = now() where message_key = $1", request.key)
        receipt = await handle.result()
    assert receipt == SENT_BY_SMS
    assert [m.key for m in provider.sent] == [request.key]
    row = await _row(pool, request.key)
    assert (row["status"], row["attempts"]) == ("sent", 2)


async def test_a_lapsed_claim_of_a_crashed_worker_is_taken_over_and_sent_once(pool: asyncpg.Pool) -> None:
    request = _request(await _patient(pool))
    # A lease of zero: the crashed attempt's claim has lapsed by the time anyone looks at it.
    with pytest.raises(asyncio.CancelledError):
        await NotificationActivities(
            pool, CrashingProvider(), STAFF, claim_lease=timedelta(0)
        ).send_notification(request)
    provider = RecordingProvider()
    activities = NotificationActivities(pool, provider, STAFF)
    assert await activities.send_notification(request) == SENT_BY_SMS
    assert await activities.send_notification(request) == SENT_BY_SMS
    assert [m.key for m in provider.sent] == [request.key]


async def test_a_provider_error_puts_the_message_back_without_phi_in_the_error(pool: asyncpg.Pool) -> None:
    activities = NotificationActivities(pool, FailingProvider(), STAFF)
    request = _request(await _patient(pool))
    with pytest.raises(ApplicationError) as failed:
        await activities.send_notification(request)
    assert failed.value.type == "DeliveryFailed" and not failed.value.non_retryable
    row = await _row(pool, request.key)
    assert (row["status"], row["attempts"], row["claim_token"]) == ("pending", 1, None)
    for text in (str(failed.value), row["last_error"]):
        assert PHONE not in text and "Ada" not in text


async def test_an_unknown_template_is_refused_and_its_claim_released(pool: asyncpg.Pool) -> None:
    provider = RecordingProvider()
    activities = NotificationActivities(pool, provider, STAFF)
    request = _request(await _patient(pool), template="no_such_template")
    with pytest.raises(ApplicationError) as refused:
        await activities.send_notification(request)
    assert refused.value.type == "UnknownTemplate" and refused.value.non_retryable
    row = await _row(pool, request.key)
    assert (row["status"], row["claim_token"], row["claimed_until"]) == ("pending", None, None)
    assert provider.sent == []


async def test_record_undelivered_fails_a_pending_message_for_good(pool: asyncpg.Pool) -> None:
    request = _request(await _patient(pool))
    with pytest.raises(ApplicationError):
        await NotificationActivities(pool, FailingProvider(), STAFF).send_notification(request)
    provider = RecordingProvider()
    activities = NotificationActivities(pool, provider, STAFF)
    undelivered = UndeliveredMessage(key=request.key, reason="every attempt failed")
    await activities.record_undelivered(undelivered)
    await activities.record_undelivered(undelivered)
    row = await _row(pool, request.key)
    assert (row["status"], row["last_error"], row["claim_token"]) == ("failed", "every attempt failed", None)
    with pytest.raises(ApplicationError) as refused:
        await activities.send_notification(request)
    assert refused.value.type == "MessageFailed" and refused.value.non_retryable
    assert provider.sent == []


async def test_record_undelivered_leaves_a_sent_message_sent(pool: asyncpg.Pool) -> None:
    provider = RecordingProvider()
    activities = NotificationActivities(pool, provider, STAFF)
    request = _request(await _patient(pool))
    await activities.send_notification(request)
    await activities.record_undelivered(UndeliveredMessage(key=request.key, reason="late"))
    row = await _row(pool, request.key)
    assert (row["status"], row["last_error"]) == ("sent", None)
    assert await activities.send_notification(request) == SENT_BY_SMS
    assert len(provider.sent) == 1


async def test_a_workflow_that_gives_up_marks_the_message_failed(
    pool: asyncpg.Pool, temporal: Client
) -> None:
    provider = FailingProvider()
    activities = NotificationActivities(pool, provider, STAFF)
    request = _request(await _patient(pool))
    async with Worker(
        temporal,
        task_queue="outbox-give-up-test",
        workflows=[SendOrGiveUp],
        activities=[activities.send_notification, activities.record_undelivered],
    ):
        receipt = await temporal.execute_workflow(
            SendOrGiveUp.run, request, id=f"outbox-{uuid.uuid4()}", task_queue="outbox-give-up-test"
        )
    assert receipt is None
    assert provider.attempts == 3
    row = await _row(pool, request.key)
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 3, "every attempt failed")
