"""The protocol every notification provider implements."""

from dataclasses import dataclass
from typing import Literal, Protocol

Channel = Literal["sms", "email"]


@dataclass(frozen=True)
class OutboundMessage:
    key: str  # unique per message; providers that support it pass it on as their idempotency key
    channel: Channel
    address: str
    subject: str
    body: str


class ProviderError(Exception):
    """Delivery failed for now; the activity retries. The text must carry no PHI."""


class NotificationProvider(Protocol):
    name: str

    async def send(self, message: OutboundMessage) -> str:
        """Delivers the message and returns the provider's id for it."""
        ...
