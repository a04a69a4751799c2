"""A provider that delivers to the log: for local runs until SMTP and SMS are configured."""

from datetime import datetime

import structlog

from activities.providers.base import OutboundMessage

log = structlog.get_logger()


class LogProvider:
    """Logs that a message went out, without its address or text (both are PHI); the outbox keeps them."""

    name = "log"

    async def send(self, message: OutboundMessage) -> str:
        log.info("notification.delivered", provider=self.name, key=message.key, channel=message.channel)
        return f"log:{message.key}"

    async def find_sent(
        self, message: OutboundMessage, since: datetime, taken: frozenset[str] = frozenset()
    ) -> str | None:
        return None  # a log line cannot be half delivered: every attempt that reached it returned
