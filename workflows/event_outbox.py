"""The pathway's webhook events: recorded in the workflow task that caused them, written to the outbox in
order.

A watcher compares what the pathway shows (`PathwayShape`) with what it showed at the last change it saw, in
every workflow task that changes it, and queues the events between the two (domain/webhook_events.py), each
with the pathway's next sequence number and that task's time. A writer sends the queue to the outbox with a
local activity, in that same task when the database answers; when it does not, the queue waits (the
pathway goes on) and is written, whole and in order, once it does. An event's id is fixed by the run and its
sequence number: a workflow task that is retried writes the same ids again, and the outbox keeps one row
per id (db/webhook_outbox.py).
"""

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from domain.webhook_events import PathwayEvents, PathwayShape, WebhookEvent, changes

from workflows.activity_options import EVENT_OUTBOX

FIRST_WAIT_AFTER_A_FAILED_WRITE = timedelta(seconds=30)
LONGEST_WAIT_AFTER_A_FAILED_WRITE = timedelta(hours=1)


class EventOutbox:
    def __init__(
        self, pathway_id: str, patient_ref: str, clinic_site: str, shape: Callable[[], PathwayShape]
    ) -> None:
        self._pathway_id, self._patient_ref, self._clinic_site = pathway_id, patient_ref, clinic_site
        self._shape = shape
        self._seen: PathwayShape | None = None
        self._queue: list[WebhookEvent] = []
        self._sequence = 0

    def _changed(self) -> bool:
        return self._shape() != self._seen

    def caught_up(self) -> bool:
        """Every change seen, and every event written."""
        return not self._changed() and not self._queue

    async def run(self) -> None:
        await asyncio.gather(self._watch(), self._write())

    async def _watch(self) -> None:
        while True:
            await workflow.wait_condition(self._changed)
            shape, now = self._shape(), workflow.now()
            for draft in changes(self._seen, shape):
                self._sequence += 1
                self._queue.append(
                    WebhookEvent(
                        id=self._event_id(self._sequence),
                        type=draft.type,
                        time=now,
                        pathway_id=self._pathway_id,
                        patient_ref=self._patient_ref,
                        sequence=self._sequence,
                        data=draft.data,
                    )
                )
            self._seen = shape

    async def _write(self) -> None:
        wait = FIRST_WAIT_AFTER_A_FAILED_WRITE
        while True:
            await workflow.wait_condition(lambda: bool(self._queue))
            batch = list(self._queue)
            try:
                await workflow.execute_local_activity(
                    "record_pathway_events",
                    PathwayEvents(pathway_id=self._pathway_id, clinic_site=self._clinic_site, events=batch),
                    start_to_close_timeout=EVENT_OUTBOX.start_to_close,
                    schedule_to_close_timeout=EVENT_OUTBOX.schedule_to_close,
                    retry_policy=EVENT_OUTBOX.retry,
                    summary=f"webhook events {batch[0].sequence}-{batch[-1].sequence}",
                )
            except FailureError:  # the database is out of reach: the pathway goes on, the queue waits
                await workflow.sleep(wait, summary="webhook outbox out of reach")
                wait = min(wait * 2, LONGEST_WAIT_AFTER_A_FAILED_WRITE)
                continue
            wait = FIRST_WAIT_AFTER_A_FAILED_WRITE
            del self._queue[: len(batch)]

    def _event_id(self, sequence: int) -> str:
        run = workflow.info().run_id
        return f"evt_{uuid.uuid5(uuid.NAMESPACE_URL, f'{self._pathway_id}/{run}/{sequence}').hex}"
