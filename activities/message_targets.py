"""Where a message goes: staff's address, or the patient's channel (their preferred one when usable, else the
other), or nowhere, and why: the patient declined its category, or has no reachable channel."""

from activities.message_categories import declined_by
from db import audit
from db.patients import Contact, contact_for
from db.pool import Connection
from domain.consents import ConsentCategory
from domain.notifications import Channel, NotificationRequest, ReceiptStatus, Recipient

DECLINED = "declined"
"""The outbox reason of a message whose category the patient declined (no PHI: only that they did)."""
NO_CHANNEL = "no reachable channel"


def choose_channel(contact: Contact) -> tuple[Channel, str] | None:
    """The patient's preferred channel when usable (SMS needs consent, a number the gateway has not refused
    and that has not texted STOP; e-mail an address their mail server has not refused and the patient's
    consent to e-mail), else the other; None if neither."""
    usable = contact.phone and contact.sms_consent and not contact.phone_refused and not contact.sms_opted_out
    sms = (Channel.SMS, contact.phone) if usable and contact.phone else None
    email_declined = ConsentCategory.EMAIL in contact.declined
    email_usable = contact.email and not email_declined and not contact.email_refused
    email = (Channel.EMAIL, contact.email) if email_usable and contact.email else None
    ordered = [sms, email] if contact.preferred_channel == Channel.SMS else [email, sms]
    for option in ordered:
        if option is not None:
            return option
    return None


async def message_target(
    conn: Connection, request: NotificationRequest, staff_address: str, staff_urgent: tuple[Channel, str]
) -> tuple[Channel, str, Contact | None] | ReceiptStatus:
    """Where the message goes, and for a patient their contact (their first name, language, clinic), read
    under an audit row; or why it goes nowhere: DECLINED (its category, by the patient), SUPPRESSED (no
    channel). Staff's routine messages go to `staff_address`, urgent ones to `staff_urgent`."""
    if request.recipient == Recipient.STAFF:
        return Channel.EMAIL, staff_address, None
    if request.recipient == Recipient.STAFF_URGENT:
        return *staff_urgent, None
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
        return ReceiptStatus.SUPPRESSED
    # Before the channel: a patient who declined the message is not unreachable for want of one.
    if declined_by(request.template, contact.declined):
        return ReceiptStatus.DECLINED
    chosen = choose_channel(contact)
    if chosen is None:
        return ReceiptStatus.SUPPRESSED
    return chosen[0], chosen[1], contact
