"""The protocol every notification provider implements, and the errors it raises."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.notifications import Channel

__all__ = ["Channel", "MessageRejected", "NotificationProvider", "OutboundMessage", "ProviderError"]


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
    """Delivery failed for now; the activity retries. The text must carry no PHI and no secret.

    `outcome_unknown`: the provider may have taken the message before the failure (a connection reset or a
    timeout after the request went out, a gateway error page), so the next attempt asks the provider
    (`find_sent`) before sending again. False only when the message surely did not get there (the
    connection was refused, the provider answered that it did not take it)."""

    def __init__(self, text: str, *, outcome_unknown: bool = False) -> None:
        super().__init__(text)
        self.outcome_unknown = outcome_unknown


class MessageRejected(ProviderError):
    """The provider refused this message for good (an SMS gateway's 4xx, an SMTP 5xx): never retried.

    `unreachable`: the address itself cannot be reached (an invalid or landline number, a number that
    unsubscribed at the gateway), so the patient is unreachable on this channel, not merely this message
    undelivered. `opted_out` (implies `unreachable`): because its owner unsubscribed at the gateway, which is
    their choice, lifted by their START, not a fault of the number."""

    def __init__(self, text: str, *, unreachable: bool = False, opted_out: bool = False) -> None:
        super().__init__(text)
        self.unreachable = unreachable or opted_out
        self.opted_out = opted_out


class NotificationProvider(Protocol):
    name: str

    async def send(self, message: OutboundMessage) -> str:
        """Delivers the message and returns the provider's id for it. Called with no database connection
        or transaction held; may be called again for the same `message.key` after a crash. Raises
        ProviderError (MessageRejected for a refusal that a retry would meet again)."""
        ...

    async def find_sent(
        self, message: OutboundMessage, since: datetime, taken: frozenset[str] = frozenset()
    ) -> str | None:
        """The provider's id for `message` if an attempt at it begun at `since` or later reached the
        provider; None if none did, or if the provider cannot tell (then the message is sent again, and a
        provider that can should make that second copy recognisable). `taken`: ids already recorded for
        other messages, never this one's (another message may read the same). Raises ProviderError when
        the provider could not be asked."""
        ...
