"""Sending messages to patients and staff through the outbox.

A send is claim, call, record: a short transaction claims the outbox row and looks the address up; the
provider is called with no connection held (the pool is shared with booking); a second short transaction
records the outcome. The states a row goes through are described in `db.outbox`.

No second copy after a lost answer: the claiming transaction also records that an attempt is about to reach
the provider (`outbox.begin_attempt`). When it commits, the row says "an attempt may be in flight" until the
attempt records its outcome. If the attempt never does (the worker died mid-call), or the provider's answer
was lost after the request went out (a connection reset, a timeout: `ProviderError.outcome_unknown`), the
next attempt finds that mark and asks the provider whether it has the message (`find_sent`, e.g. the SMS
gateway's message list) before sending: found, its id is recorded and nothing is sent. A provider that cannot
be asked (SMTP) sends again, with the same Message-ID, so the copy is recognisable as one message. A diary's
prompts read alike, so the lookup skips the ids recorded for the pathway's other messages, and when another
of them is being sent as it asks (its id not recorded yet), the attempt waits for its retry.

Refusals: a provider's refusal for good (`MessageRejected`) is not retried. When it says the patient's
number itself is unusable (invalid, not a mobile), the number is marked refused (no SMS until it changes);
when it says the number unsubscribed at the gateway, the number is recorded as opted out, as if it had texted
STOP to us (no SMS to it until it texts START: db/sms_numbers.py). A mailbox the patient's mail server
refuses for good is marked refused (no e-mail until the address changes). Either way the message is tried
again on the patient's other channel; with none left it is suppressed, and the receipt says so, which the
workflow takes as "patient unreachable" (workflows/messenger.py). Any other refusal, or an unusable staff
address, fails the message (MessageRejected, non-retryable).

Consents: a message of a category the patient declined (activities/message_categories.py) is not sent; its
row is suppressed with the reason "declined" and its receipt is DECLINED, which the workflow does not take as
"unreachable". E-mail declined, the patient's address is not used.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.message_targets import DECLINED, NO_CHANNEL, message_target
from activities.messages import ANSWER_TEMPLATES, UnknownTemplateError, render
from activities.patient_links import PatientLinks
from activities.providers.base import (
    MessageRejected,
    NotificationProvider,
    OutboundMessage,
    ProviderError,
)
from db import audit, outbox, sms_numbers
from db.outbox import OutboxStatus
from db.patients import refuse_email, refuse_phone
from domain.notifications import (
    Channel,
    NotificationReceipt,
    NotificationRequest,
    ReceiptStatus,
    Recipient,
    UndeliveredMessage,
)
from domain.phones import e164

log = structlog.get_logger()

# Longer than the activity's start-to-close timeout (30 s), so a claim outlives the attempt that made it
# and lapses only when that attempt is surely over.
DEFAULT_CLAIM_LEASE = timedelta(seconds=60)

UNSURE_RETRY_SECONDS = (2.0, 20.0)
"""The span a retry after an unsure lookup is drawn from: spread, so two such attempts fall apart."""


class LookupUnsure(ProviderError):
    """A lookup found a message that may be another's of the pathway: the attempt waits and asks again."""


def unsure_retry_delay() -> timedelta:
    return timedelta(seconds=random.uniform(*UNSURE_RETRY_SECONDS))


@dataclass(frozen=True)
class _Claim:
    token: uuid.UUID
    message: OutboundMessage
    recipient: Recipient
    patient_ref: str | None
    unsettled_since: datetime | None
    """When an earlier attempt that may have reached the provider began (None: none may have)."""


class NotificationActivities:
    """Sends through `provider`: patients on the channel they chose, staff's routine messages to the
    `staff_address` mailbox, urgent ones (`Recipient.STAFF_URGENT`) to `staff_urgent`, the care team's
    urgent channel (by default the same mailbox: the urgent templates say URGENT). A patient's message that
    asks for an answer carries the patient's link page, made by `links` in the same transaction."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        provider: NotificationProvider,
        staff_address: str,
        *,
        staff_urgent: tuple[Channel, str] | None = None,
        claim_lease: timedelta = DEFAULT_CLAIM_LEASE,
        links: PatientLinks | None = None,
    ) -> None:
        self._pool = pool
        self._links = links or PatientLinks()
        self._provider = provider
        self._staff_address = staff_address
        self._staff_urgent = staff_urgent or (Channel.EMAIL, staff_address)
        self._claim_lease = claim_lease

    @activity.defn
    async def send_notification(self, request: NotificationRequest) -> NotificationReceipt:
        """Sends one message at most once per claim, and records it so it is not sent again.

        A row already sent or suppressed returns its receipt. Raises ApplicationError of type
        DeliveryInProgress (retryable) while another attempt's claim on the message holds, DeliveryFailed
        (retryable) when the provider refuses it for now, MessageRejected (non-retryable) when the provider
        refuses it for good, MessageFailed (non-retryable) when the message was given up on, and
        UnknownTemplate (non-retryable). A patient address the provider refuses as unusable returns a
        SUPPRESSED receipt; a message of a category the patient declined, a DECLINED one. No error text
        carries PHI.
        """
        claimed = await self._claim(request)
        if isinstance(claimed, NotificationReceipt):
            return claimed
        message = claimed.message
        try:
            provider_id = await self._deliver(claimed)
        except MessageRejected as err:
            return await self._rejected(claimed, err)
        except ProviderError as err:
            failure = f"{self._provider.name}: {err}"
            await outbox.release(
                self._pool, request.key, claimed.token, failure, outcome_unknown=err.outcome_unknown
            )
            log.warning(
                "notification.delivery_failed",
                key=request.key,
                provider=self._provider.name,
                outcome_unknown=err.outcome_unknown,
            )
            raise ApplicationError(
                f"delivery of {request.key} failed: {failure}",
                type="DeliveryFailed",
                # Two messages in doubt that wait for each other must not retry in step.
                next_retry_delay=unsure_retry_delay() if isinstance(err, LookupUnsure) else None,
            ) from err
        recorded = await outbox.mark_sent(
            self._pool,
            request.key,
            claimed.token,
            channel=message.channel,
            address=message.address,
            body=message.body,
            provider_message_id=provider_id,
        )
        if not recorded:
            # Our claim lapsed and the row moved on without us; the provider has the message all the same.
            log.warning("notification.claim_lost", key=request.key, provider=self._provider.name)
        else:
            log.info(
                "notification.sent", key=request.key, channel=message.channel, provider=self._provider.name
            )
        return NotificationReceipt(status=ReceiptStatus.SENT, channel=message.channel)

    async def _deliver(self, claimed: _Claim) -> str:
        """The provider's id for the message: the one an earlier attempt got to it, else a new send."""
        if claimed.unsettled_since is not None:
            message = claimed.message
            taken = await outbox.recorded_elsewhere(self._pool, message.key, message.channel, message.address)
            try:
                found = await self._provider.find_sent(message, claimed.unsettled_since, taken)
            except ProviderError as err:  # still unknown whether the earlier attempt got there
                raise ProviderError(f"lookup failed: {err}", outcome_unknown=True) from err
            if found is not None:
                # Another of the pathway's messages, with the same words, may have reached the provider
                # unrecorded: then what was found may be its. Asked after the lookup, as that message is
                # claimed before its provider call and recorded after it: this attempt waits for it.
                if await outbox.may_be_anothers(self._pool, message.key, found):
                    raise LookupUnsure("lookup unsure: another message is being sent", outcome_unknown=True)
                log.info("notification.reconciled", key=claimed.message.key, provider=self._provider.name)
                return found
        return await self._provider.send(claimed.message)

    async def _rejected(self, claimed: _Claim, err: MessageRejected) -> NotificationReceipt:
        key, channel = claimed.message.key, claimed.message.channel
        failure = f"{self._provider.name}: {err}"
        if err.unreachable and claimed.recipient == Recipient.PATIENT and channel == Channel.SMS:
            # The number is unusable, or unsubscribed: remembered, and the message tried again on the
            # patient's other channel (the next attempt chooses again; with none left it is suppressed:
            # unreachable).
            assert claimed.patient_ref is not None
            number = e164(claimed.message.address) if err.opted_out else None
            async with self._pool.acquire() as conn, conn.transaction():
                if number is not None:
                    # The patient's choice, not a bad number: an opt-out of the number, as a STOP texted
                    # to us, so that their START resumes SMS (a refused phone only clears on a new number).
                    await sms_numbers.opt_out(conn, number, datetime.now(UTC), source="gateway")
                    await audit.record(
                        conn,
                        actor="worker",
                        action="patient.sms.opted_out",
                        patient_ref=claimed.patient_ref,
                        detail={"source": "gateway", "message_key": key},
                    )
                else:
                    await refuse_phone(conn, claimed.patient_ref, claimed.message.address)
                await outbox.release(conn, key, claimed.token, failure)
            log.warning("notification.sms_opted_out" if number else "notification.phone_refused", key=key)
            raise ApplicationError(
                f"delivery of {key} by SMS was refused: {failure}; trying the other channel",
                type="DeliveryFailed",
            ) from err
        if err.unreachable and claimed.recipient == Recipient.PATIENT and channel == Channel.EMAIL:
            # The mailbox is unusable: as for a number, remembered and the other channel tried.
            assert claimed.patient_ref is not None
            async with self._pool.acquire() as conn, conn.transaction():
                await refuse_email(conn, claimed.patient_ref, claimed.message.address)
                await outbox.release(conn, key, claimed.token, failure)
            log.warning("notification.email_refused", key=key)
            raise ApplicationError(
                f"delivery of {key} by e-mail was refused: {failure}; trying the other channel",
                type="DeliveryFailed",
            ) from err
        if err.unreachable and claimed.recipient == Recipient.PATIENT:
            await outbox.mark_suppressed(self._pool, key, failure, channel=channel)
            log.warning("notification.suppressed", key=key, reason="address refused", channel=channel)
            return NotificationReceipt(status=ReceiptStatus.SUPPRESSED, channel=channel)
        await outbox.mark_failed(self._pool, key, failure)
        log.warning("notification.rejected", key=key, provider=self._provider.name)
        raise ApplicationError(
            f"delivery of {key} was refused: {failure}", type="MessageRejected", non_retryable=True
        ) from err

    @activity.defn
    async def record_undelivered(self, message: UndeliveredMessage) -> None:
        """Marks a message that every retry failed to send as failed, so it is never sent later; a message
        already sent or suppressed is left as it is. `message.reason` must carry no PHI."""
        status = await outbox.mark_failed(self._pool, message.key, message.reason)
        log.info("notification.undelivered", key=message.key, status=status)

    async def _claim(self, request: NotificationRequest) -> _Claim | NotificationReceipt:
        """In one short transaction: the row made if new, then claimed with the message to send, or the
        receipt of a message that needs no sending."""
        async with self._pool.acquire() as conn, conn.transaction():
            await outbox.ensure_row(conn, request)
            row = await outbox.lock_row(conn, request.key)
            if row.status in (OutboxStatus.SENT, OutboxStatus.SUPPRESSED):
                channel = Channel(row.channel) if row.channel else None
                declined = row.status == OutboxStatus.SUPPRESSED and row.last_error == DECLINED
                status = ReceiptStatus.DECLINED if declined else ReceiptStatus(row.status)
                return NotificationReceipt(status=status, channel=channel)
            if row.status in (OutboxStatus.FAILED, OutboxStatus.ABANDONED):
                raise ApplicationError(
                    f"message {request.key} was given up on", type="MessageFailed", non_retryable=True
                )
            if row.status == OutboxStatus.SENDING and not row.claim_lapsed:
                raise ApplicationError(
                    f"message {request.key} is being sent by another attempt", type="DeliveryInProgress"
                )
            token = await outbox.claim(conn, request.key, self._claim_lease)
            target = await message_target(conn, request, self._staff_address, self._staff_urgent)
            if isinstance(target, ReceiptStatus):
                reason = DECLINED if target == ReceiptStatus.DECLINED else NO_CHANNEL
                await outbox.mark_suppressed(conn, request.key, reason)
                log.warning("notification.suppressed", key=request.key, reason=reason)
                return NotificationReceipt(status=target)
            channel, address, contact = target
            link = None
            if request.recipient == Recipient.PATIENT and request.template in ANSWER_TEMPLATES:
                assert request.patient_ref is not None
                link = await self._links.url_for(conn, request.pathway_id, request.patient_ref)
            try:
                subject, body = render(
                    request.template,
                    request.recipient,
                    request.params,
                    contact.given_name if contact else None,
                    channel=channel,
                    language=contact.preferred_language if contact else "en",
                    clinic=contact.clinic if contact else None,
                    clinic_address=contact.clinic_address if contact else None,
                    link=link,
                )
            except UnknownTemplateError as err:
                unknown = err
                # Released in this transaction, which commits (keeping the audit row of the lookup).
                await outbox.release(conn, request.key, token, str(err))
            else:
                message = OutboundMessage(
                    key=request.key, channel=channel, address=address, subject=subject, body=body
                )
                # Committed with the claim, before the provider is called: see the module docstring.
                unsettled_since = await outbox.begin_attempt(conn, request.key)
                return _Claim(token, message, request.recipient, request.patient_ref, unsettled_since)
        raise ApplicationError(str(unknown), type="UnknownTemplate", non_retryable=True) from unknown
