"""Booking and updating appointments in the clinic's calendar."""

import asyncpg
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db import calendar
from domain.appointments import Appointment, BookingRequest, StatusChangeRequest

log = structlog.get_logger()


class SchedulingActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn
    async def book_appointment(self, request: BookingRequest) -> Appointment:
        """Books the first fitting slot; asking again for the same (pathway, kind, attempt) returns the same
        appointment. Raises a non-retryable `NoSlotAvailable` when nothing fits within the horizon."""
        try:
            appointment = await calendar.book(self._pool, request)
        except calendar.NoSlotError as err:
            raise ApplicationError(str(err), type="NoSlotAvailable", non_retryable=True) from err
        except calendar.CalendarNotConfiguredError as err:
            raise ApplicationError(str(err), type="CalendarNotConfigured", non_retryable=True) from err
        log.info("appointment.booked", appointment_id=appointment.appointment_id, kind=appointment.kind.value)
        return appointment

    @activity.defn
    async def change_appointment_status(self, request: StatusChangeRequest) -> None:
        """Records arrival, no-show or cancellation; the last two free the slot for others."""
        await calendar.set_status(self._pool, request.appointment_id, request.status)
        log.info(
            "appointment.status_changed", appointment_id=request.appointment_id, status=request.status.value
        )
