"""The pathway's webhook events: written to the outbox in the workflow task that caused them.

The outbox watches what the pathway shows (`PathwayShape`); when it changes, it derives the events
(domain/webhook_events.py), gives each an id and the task's time, and writes them with a local activity in
that same task, so an event is recorded exactly when its cause is, and a retried write (same ids) adds
nothing. Events are written one batch at a time, in the order they happened.
"""

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.webhook_events import PathwayEvents, PathwayShape, WebhookEvent, changes

from workflows.activity_options import EVENT_OUTBOX

RETRY_AFTER_A_LONG_OUTAGE = timedelta(hours=1)


class EventOutbox:
    def __init__(
        self, pathway_id: str, patient_ref: str, clinic_site: str, shape: Callable[[], PathwayShape]
    ) -> None:
        self._pathway_id, self._patient_ref, self._clinic_site = pathway_id, patient_ref, clinic_site
        self._shape = shape
        self._recorded: PathwayShape | None = None
        self._writing = False

    def has_news(self) -> bool:
        return self._shape() != self._recorded

    def caught_up(self) -> bool:
        return not self._writing and not self.has_news()

    async def run(self) -> None:
        while True:
            await workflow.wait_condition(self.has_news)
            await self._record()

    async def _record(self) -> None:
        shape = self._shape()
        now = workflow.now()
        events = [
            WebhookEvent(
                id=f"evt_{workflow.uuid4().hex}",
                type=draft.type,
                time=now,
                pathway_id=self._pathway_id,
                patient_ref=self._patient_ref,
                data=draft.data,
            )
            for draft in changes(self._recorded, shape)
        ]
        self._writing = True
        try:
            if events:
                await self._write(
                    PathwayEvents(pathway_id=self._pathway_id, clinic_site=self._clinic_site, events=events)
                )
            self._recorded = shape
        finally:
            self._writing = False

    async def _write(self, batch: PathwayEvents) -> None:
        while True:
            try:
                await workflow.execute_local_activity(
                    "record_pathway_events",
                    batch,
                    start_to_close_timeout=EVENT_OUTBOX.start_to_close,
                    schedule_to_close_timeout=EVENT_OUTBOX.schedule_to_close,
                    retry_policy=EVENT_OUTBOX.retry,
                )
                return
            except ActivityError:
                await workflow.sleep(RETRY_AFTER_A_LONG_OUTAGE, summary="webhook outbox unreachable")
