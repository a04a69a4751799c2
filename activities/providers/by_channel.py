"""One provider per channel: e-mail and SMS may go through different services."""

from datetime import datetime

from activities.providers.base import NotificationProvider, OutboundMessage
from domain.notifications import Channel


class ByChannel:
    """Hands each message to the provider of its channel (the activity has chosen the channel)."""

    def __init__(self, *, email: NotificationProvider, sms: NotificationProvider) -> None:
        self._providers = {Channel.EMAIL: email, Channel.SMS: sms}
        self.name = f"email:{email.name},sms:{sms.name}"

    def for_channel(self, channel: Channel) -> NotificationProvider:
        return self._providers[channel]

    async def send(self, message: OutboundMessage) -> str:
        return await self._providers[message.channel].send(message)

    async def find_sent(
        self, message: OutboundMessage, since: datetime, taken: frozenset[str] = frozenset()
    ) -> str | None:
        return await self._providers[message.channel].find_sent(message, since, taken)
