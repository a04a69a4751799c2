"""In-memory stand-ins for the activities, under the real activities' names (workflow tests only)."""

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
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


class FakeClinic:
    """Books every appointment a day after it is asked for, and records every message and status change."""

    def __init__(self) -> None:
        self.bookings: dict[tuple[str, str, int], Appointment] = {}
        self.messages: list[NotificationRequest] = []
        self.status_changes: list[StatusChangeRequest] = []
        self.undelivered: list[UndeliveredMessage] = []
        self._held: dict[str, asyncio.Event] = {}
        self._waiting: Counter[str] = Counter()
        self.failing: set[str] = set()  # templates whose sends fail for good
        self.unreachable = False
        self.no_slots: set[str] = set()
        self.booking_calls: list[BookingRequest] = []

    def hold(self, template: str) -> None:
        """Messages of `template` wait until `release` (a slow provider)."""
        self._held[template] = asyncio.Event()

    def waiting(self, template: str) -> int:
        """How many sends of `template` are being held."""
        return self._waiting[template]

    def release(self, template: str) -> None:
        self._held.pop(template).set()

    @activity.defn(name="book_appointment")
    async def book_appointment(self, request: BookingRequest) -> Appointment:
        self.booking_calls.append(request)
        if request.kind.value in self.no_slots:
            raise ApplicationError("no slot within 60 days", type="NoSlotAvailable", non_retryable=True)
        key = (request.pathway_id, request.kind.value, request.attempt)
        if key not in self.bookings:
            starts = request.not_before + timedelta(days=1)
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
        if request.template in self._held:
            self._waiting[request.template] += 1
            await self._held[request.template].wait()
        if request.template in self.failing:
            raise ApplicationError("gateway down", type="DeliveryFailed", non_retryable=True)
        self.messages.append(request)
        if self.unreachable and request.recipient == Recipient.PATIENT:
            return NotificationReceipt(status=ReceiptStatus.SUPPRESSED)
        return NotificationReceipt(status=ReceiptStatus.SENT, channel="sms")

    @activity.defn(name="record_undelivered")
    async def record_undelivered(self, message: UndeliveredMessage) -> None:
        self.undelivered.append(message)

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
        ]
