"""The webhook outbox's write, run as a local activity in the workflow task that caused the events."""

import asyncpg
import structlog
from temporalio import activity

from db.webhook_outbox import record_events
from domain.webhook_events import PathwayEvents

log = structlog.get_logger()


class WebhookEventActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn
    async def record_pathway_events(self, batch: PathwayEvents) -> None:
        """Writes the events and a delivery for each subscription that wants one; a retry adds nothing."""
        deliveries = await record_events(self._pool, batch)
        log.info(
            "webhook.events_recorded",
            events=[event.type.value for event in batch.events],
            deliveries=deliveries,
        )
