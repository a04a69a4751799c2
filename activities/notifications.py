"""Sending messages to patients and staff through the outbox.

A send is claim, call, record: a short transaction claims the outbox row and looks the address up; the
provider is called with no connection held (the pool is shared with booking); a second short transaction
records the outcome. The states a row goes through are described in `db.outbox`.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.messages import ANSWER_TEMPLATES, UnknownTemplateError, render
from activities.patient_links import PatientLinks
from activities.providers.base import NotificationProvider, OutboundMessage, ProviderError
from db import audit, outbox
from db.outbox import OutboxStatus
from db.patients import Contact, contact_for
from db.pool import Connection
from domain.notifications import (
    Channel,
    NotificationReceipt,
    NotificationRequest,
    ReceiptStatus,
    Recipient,
    UndeliveredMessage,
)

log = structlog.get_logger()

# Longer than the activity's start-to-close timeout (30 s), so a claim outlives the attempt that made it
# and lapses only when that attempt is surely over.
DEFAULT_CLAIM_LEASE = timedelta(seconds=60)


def choose_channel(contact: Contact) -> tuple[Channel, str] | None:
    """The patient's preferred channel when usable (SMS needs consent), else the other; None if neither."""
    sms = (Channel.SMS, contact.phone) if contact.phone and contact.sms_consent else None
    email = (Channel.EMAIL, contact.email) if contact.email else None
    ordered = [sms, email] if contact.preferred_channel == Channel.SMS else [email, sms]
    for option in ordered:
        if option is not None:
            return option
    return None


@dataclass(frozen=True)
class _Claim:
    token: uuid.UUID
    message: OutboundMessage


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
        (retryable) when the provider refuses it for now, MessageFailed (non-retryable) when the message was
        given up on, and UnknownTemplate (non-retryable). No error text carries PHI.
        """
        claimed = await self._claim(request)
        if isinstance(claimed, NotificationReceipt):
            return claimed
        message = claimed.message
        try:
            provider_id = await self._provider.send(message)
        except ProviderError as err:
            failure = f"{self._provider.name}: {err}"
            await outbox.release(self._pool, request.key, claimed.token, failure)
            log.warning("notification.delivery_failed", key=request.key, provider=self._provider.name)
            raise ApplicationError(
                f"delivery of {request.key} failed: {failure}", type="DeliveryFailed"
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
        return NotificationReceipt(status=ReceiptStatus.SENT, channel=message.channel)

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
                return NotificationReceipt(status=ReceiptStatus(row.status), channel=channel)
            if row.status == OutboxStatus.FAILED:
                raise ApplicationError(
                    f"message {request.key} was given up on", type="MessageFailed", non_retryable=True
                )
            if row.status == OutboxStatus.SENDING and not row.claim_lapsed:
                raise ApplicationError(
                    f"message {request.key} is being sent by another attempt", type="DeliveryInProgress"
                )
            token = await outbox.claim(conn, request.key, self._claim_lease)
            target = await self._target(conn, request)
            if target is None:
                await outbox.mark_suppressed(conn, request.key, "no reachable channel")
                log.warning("notification.suppressed", key=request.key, reason="no reachable channel")
                return NotificationReceipt(status=ReceiptStatus.SUPPRESSED)
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
                return _Claim(token=token, message=message)
        raise ApplicationError(str(unknown), type="UnknownTemplate", non_retryable=True) from unknown

    async def _target(
        self, conn: Connection, request: NotificationRequest
    ) -> tuple[Channel, str, Contact | None] | None:
        """Where the message goes, and for a patient their contact (their first name, language, clinic)."""
        if request.recipient == Recipient.STAFF:
            return Channel.EMAIL, self._staff_address, None
        if request.recipient == Recipient.STAFF_URGENT:
            return *self._staff_urgent, None
        assert request.patient_ref is not None
        contact = await contact_for(conn, request.patient_ref)
        await audit.record(
            conn,
            actor="worker",
            action="patient.contact.read",
            patient_ref=request.patient_ref,
            pathway_id=request.pathway_id,
            detail={"message_key": request.key},
        )
        if contact is None:
            return None
        chosen = choose_channel(contact)
        if chosen is None:
            return None
        return chosen[0], chosen[1], contact
