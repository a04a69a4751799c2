"""Sending messages to patients and staff through the outbox."""

import asyncpg
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.messages import UnknownTemplateError, render
from activities.providers.base import Channel, NotificationProvider, OutboundMessage, ProviderError
from db import audit, outbox
from db.patients import Contact, contact_for
from db.pool import Connection
from domain.notifications import NotificationReceipt, NotificationRequest, ReceiptStatus, Recipient

log = structlog.get_logger()


def choose_channel(contact: Contact) -> tuple[Channel, str] | None:
    """The patient's preferred channel when usable (SMS needs consent), else the other; None if neither."""
    sms = (contact.phone, "sms") if contact.phone and contact.sms_consent else None
    email = (contact.email, "email") if contact.email else None
    ordered = [sms, email] if contact.preferred_channel == "sms" else [email, sms]
    for option in ordered:
        if option is not None:
            address, channel = option
            return ("sms" if channel == "sms" else "email"), address
    return None


class NotificationActivities:
    def __init__(self, pool: asyncpg.Pool, provider: NotificationProvider, staff_address: str) -> None:
        self._pool = pool
        self._provider = provider
        self._staff_address = staff_address

    @activity.defn
    async def send_notification(self, request: NotificationRequest) -> NotificationReceipt:
        """Sends one message at most once: the outbox row for `request.key` is made once and locked while
        sending, and a row already sent is not sent again."""
        await outbox.ensure_row(self._pool, request)
        async with self._pool.acquire() as conn, conn.transaction():
            row = await outbox.lock_row(conn, request.key)
            if row.status != "pending":
                return NotificationReceipt(status=ReceiptStatus(row.status), channel=row.channel)
            target = await self._target(conn, request)
            if target is None:
                await outbox.mark_suppressed(conn, request.key, "no reachable channel")
                log.warning("notification.suppressed", key=request.key, reason="no reachable channel")
                return NotificationReceipt(status=ReceiptStatus.SUPPRESSED)
            channel, address, given_name = target
            try:
                subject, body = render(request.template, request.recipient, request.params, given_name)
            except UnknownTemplateError as err:
                raise ApplicationError(str(err), type="UnknownTemplate", non_retryable=True) from err
            message = OutboundMessage(
                key=request.key, channel=channel, address=address, subject=subject, body=body
            )
            try:
                provider_id = await self._provider.send(message)
            except ProviderError as err:
                failure = f"{self._provider.name}: {err}"
            else:
                await outbox.mark_sent(
                    conn,
                    request.key,
                    channel=channel,
                    address=address,
                    body=body,
                    provider_message_id=provider_id,
                )
                return NotificationReceipt(status=ReceiptStatus.SENT, channel=channel)
        # Outside the transaction, so the failure count survives the rollback; the retry sends again.
        await outbox.note_failure(self._pool, request.key, failure)
        raise ApplicationError(f"delivery of {request.key} failed: {failure}", type="DeliveryFailed")

    async def _target(
        self, conn: Connection, request: NotificationRequest
    ) -> tuple[Channel, str, str | None] | None:
        if request.recipient == Recipient.STAFF:
            return "email", self._staff_address, None
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
        return chosen[0], chosen[1], contact.given_name
