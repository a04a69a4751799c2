"""What a workflow asks the notification system to send, and what it hears back. No PHI: the patient is
named only by `patient_ref`; contact details are looked up when the message is sent."""

from enum import StrEnum

from domain.contract import ContractModel


class Recipient(StrEnum):
    PATIENT = "patient"
    STAFF = "staff"
    """The care team's routine mailbox."""
    STAFF_URGENT = "staff_urgent"
    """The care team's urgent channel (the on-call phone or the urgent mailbox): what cannot wait."""


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class ReceiptStatus(StrEnum):
    SENT = "sent"
    """The provider accepted the message."""
    SUPPRESSED = "suppressed"
    """The patient cannot be reached: no channel they agreed to, or the provider refused their address
    itself (an invalid or unsubscribed number; `channel` then names it). Nothing was sent."""
    DECLINED = "declined"
    """The patient declined this kind of message (domain/consents.py). Nothing was sent, by their choice: not
    a sign that they cannot be reached."""


class NotificationRequest(ContractModel):
    """One message: `key` is unique per message, so a retried send never sends twice."""

    key: str
    pathway_id: str
    recipient: Recipient
    patient_ref: str | None
    template: str
    params: dict[str, str] = {}


class NotificationReceipt(ContractModel):
    status: ReceiptStatus
    channel: Channel | None = None


class UndeliveredMessage(ContractModel):
    """A message every retry failed to send: its outbox row is marked failed with the reason."""

    key: str
    reason: str


class BouncedMessage(ContractModel):
    """A patient's SMS the gateway took, then reported it could not deliver, for good (the number cannot
    take SMS): the pathway sends it again (workflows/messenger.py). `key` is its outbox key; `template` and
    `params` are as it was asked for."""

    key: str
    template: str
    params: dict[str, str] = {}
