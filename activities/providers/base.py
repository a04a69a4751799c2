"""The protocol every notification provider implements."""

from dataclasses import dataclass
from typing import Protocol

from domain.notifications import Channel

__all__ = ["Channel", "NotificationProvider", "OutboundMessage", "ProviderError"]


@dataclass(frozen=True)
class OutboundMessage:
    key: str
    """Unique per message and the same on every attempt at it: the message's idempotency key. A provider
    that supports one (an SMS gateway's idempotency header, an e-mail Message-ID) passes it on, so a retry
    after an attempt whose outcome was lost is not delivered twice."""
    channel: Channel
    address: str
    subject: str
    body: str


class ProviderError(Exception):
    """Delivery failed for now; the activity retries. The text must carry no PHI."""


class NotificationProvider(Protocol):
    name: str

    async def send(self, message: OutboundMessage) -> str:
        """Delivers the message and returns the provider's id for it. Called with no database connection
        or transaction held; may be called again for the same `message.key` after a crash."""
        ...
