"""In-memory stand-ins for the activities, under the real activities' names (workflow tests only)."""

import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import activity

from domain.appointments import Appointment, BookingRequest, StatusChangeRequest
from domain.notifications import NotificationReceipt, NotificationRequest


class FakeClinic:
    """Books every appointment a day after it is asked for, and records every message and status change."""

    def __init__(self) -> None:
        self.bookings: dict[tuple[str, str, int], Appointment] = {}
        self.messages: list[NotificationRequest] = []
        self.status_changes: list[StatusChangeRequest] = []

    @activity.defn(name="book_appointment")
    async def book_appointment(self, request: BookingRequest) -> Appointment:
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
        self.messages.append(request)
        return NotificationReceipt(status="sent", channel="sms")

    def templates(self) -> Counter[str]:
        return Counter(m.template for m in self.messages)

    def activities(self) -> list[Callable[..., Any]]:
        return [self.book_appointment, self.change_appointment_status, self.send_notification]
