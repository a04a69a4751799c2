"""In-memory stand-ins for the activities, under the real activities' names (workflow tests only)."""

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.appointments import Appointment, BookingRequest, StatusChangeRequest
from domain.notifications import (
    NotificationReceipt,
    NotificationRequest,
    ReceiptStatus,
    Recipient,
    UndeliveredMessage,
)
from domain.webhook_events import PathwayEvents, WebhookEvent


class FakeClinic:
    """Books every appointment a day (`booking_lead`) after it is asked for, and records every message and
    status change."""

    def __init__(self) -> None:
        self.bookings: dict[tuple[str, str, int], Appointment] = {}
        self.messages: list[NotificationRequest] = []
        self.sent_at: dict[str, datetime] = {}  # message key (no pathway prefix) -> workflow time of its send
        self.status_changes: list[StatusChangeRequest] = []
        self.undelivered: list[UndeliveredMessage] = []
        self._held: dict[str, asyncio.Event] = {}
        self._waiting: Counter[str] = Counter()
        self.failing: set[str] = set()  # templates, or recipients, whose sends fail for good
        self.unreachable = False
        self.declined: set[str] = set()  # patient templates whose category the patient declined
        self.no_slots: set[str] = set()
        self.booking_calls: list[BookingRequest] = []
        self.booking_lead = timedelta(days=1)  # how long after the request each appointment starts
        self.events: dict[str, WebhookEvent] = {}  # the webhook outbox, by event id
        self.outbox_down = False  # the outbox's database is out of reach: each write fails at once

    def hold(self, name: str) -> None:
        """Messages of template `name`, or bookings of `booking:<kind>`, wait until `release` (a slow
        provider or calendar)."""
        self._held[name] = asyncio.Event()

    def waiting(self, name: str) -> int:
        """How many sends or bookings held under `name` have arrived."""
        return self._waiting[name]

    def release(self, name: str) -> None:
        self._held.pop(name).set()

    async def _wait_if_held(self, name: str) -> None:
        if name in self._held:
            self._waiting[name] += 1
            await self._held[name].wait()

    @activity.defn(name="book_appointment")
    async def book_appointment(self, request: BookingRequest) -> Appointment:
        self.booking_calls.append(request)
        await self._wait_if_held(f"booking:{request.kind.value}")
        if request.kind.value in self.no_slots:
            raise ApplicationError("no slot within 60 days", type="NoSlotAvailable", non_retryable=True)
        key = (request.pathway_id, request.kind.value, request.attempt)
        if key not in self.bookings:
            starts = request.not_before + self.booking_lead
            self.bookings[key] = Appointment(
                appointment_id=str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, key)))),
                kind=request.kind,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=30),
            )
        return self.bookings[key]

    @activity.defn(name="change_appointment_status")
    async def change_appointment_status(self, request: StatusChangeRequest) -> None:
        self.status_changes.append(request)

    @activity.defn(name="send_notification")
    async def send_notification(self, request: NotificationRequest) -> NotificationReceipt:
        await self._wait_if_held(request.template)
        if request.template in self.failing or request.recipient.value in self.failing:
            raise ApplicationError("gateway down", type="DeliveryFailed", non_retryable=True)
        self.messages.append(request)
        self.sent_at[request.key.split(":", 1)[1]] = activity.info().current_attempt_scheduled_time
        if self.unreachable and request.recipient == Recipient.PATIENT:
            return NotificationReceipt(status=ReceiptStatus.SUPPRESSED)
        if request.template in self.declined and request.recipient == Recipient.PATIENT:
            return NotificationReceipt(status=ReceiptStatus.DECLINED)
        return NotificationReceipt(status=ReceiptStatus.SENT, channel="sms")

    @activity.defn(name="record_undelivered")
    async def record_undelivered(self, message: UndeliveredMessage) -> None:
        self.undelivered.append(message)

    @activity.defn(name="record_pathway_events")
    async def record_pathway_events(self, batch: PathwayEvents) -> None:
        """As db/webhook_outbox.py writes: a written id takes the latest write's content."""
        if self.outbox_down:
            raise ApplicationError("database out of reach", non_retryable=True)
        for event in batch.events:
            self.events[event.id] = event

    def event_types(self, pathway_id: str) -> list[str]:
        """The types of the pathway's webhook events, in the order they were written."""
        return [e.type.value for e in self.events.values() if e.pathway_id == pathway_id]

    def sent_keys(self) -> set[str]:
        """The message keys sent, without the pathway id prefix."""
        return {m.key.split(":", 1)[1] for m in self.messages}

    def templates(self) -> Counter[str]:
        return Counter(m.template for m in self.messages)

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.book_appointment,
            self.change_appointment_status,
            self.send_notification,
            self.record_undelivered,
            self.record_pathway_events,
        ]
