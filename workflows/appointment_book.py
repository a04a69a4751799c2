"""The appointment book: booking, reminders, no-shows and cancellations of one pathway's appointments.

Bookings are bounded: a booking that finds no slot is tried `booking_tries` times, then staff are asked
(`no_slot_available`); a kind cancelled more than `max_cancellation_rebookings` times also waits for staff
(`too_many_cancellations`). Waiting for staff sets no timer, so a forgotten pathway's history stays small.
Reminders stop when their appointment is no longer booked or its stage is left; one that missed its moment
(the worker was down) by more than `reminder_missed_after`, that is due together with a later one, or that
would come after the appointment started, is dropped, and the timeline says so.
"""

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.scheduling import SchedulingActivities
    from domain.appointments import (
        Appointment,
        AppointmentKind,
        AppointmentStatus,
        BookingRequest,
        StatusChangeRequest,
    )
    from domain.inputs import PathwayInput
    from domain.refusals import Refusal
    from domain.reminders import local_text, reminder_times, reminders_to_send
    from domain.results import Withdrawal
    from domain.stages import Actor, AttentionReason, Outcome

from workflows.activity_options import BOOKING, CALENDAR_UPDATE
from workflows.messenger import Messenger
from workflows.pathway_ended import PathwayEnded
from workflows.refusal import refuse
from workflows.status_board import StatusBoard

# Pathways that started before these rules replay without them: a reminder due together with a later one, or
# due after its appointment had started, was sent then (see domain.reminders.reminders_to_send).
HOLD_BACK_LATE_REMINDERS = "reminder-hold-back-late"


class AppointmentBook:
    def __init__(
        self,
        pathway_id: str,
        pathway: PathwayInput,
        board: StatusBoard,
        messenger: Messenger,
        withdrawal: Callable[[], Withdrawal | None],
        on_booked: Callable[[Appointment], None],
    ) -> None:
        self.appointments: list[Appointment] = []
        self._id = pathway_id
        self._in = pathway
        self._config = pathway.config
        self._board = board
        self._messenger = messenger
        self._withdrawal = withdrawal
        self._on_booked = on_booked
        self._attempts: Counter[AppointmentKind] = Counter()
        self._no_shows: Counter[AppointmentKind] = Counter()
        self._cancellations: Counter[AppointmentKind] = Counter()
        self._booking: set[AppointmentKind] = set()
        self._not_before: dict[AppointmentKind, datetime | None] = {}
        self._reminders: dict[str, asyncio.Task[None]] = {}
        self.waiting_for_staff: AttentionReason | None = None
        self._staff_said_retry = False

    # ---- what validators ask ---------------------------------------------------------------------------

    def find(self, appointment_id: str) -> Appointment | None:
        return next((a for a in self.appointments if a.appointment_id == appointment_id), None)

    def current(self, kind: AppointmentKind) -> Appointment | None:
        """The latest appointment of `kind`, unless a new one is being booked."""
        if kind in self._booking:
            return None
        return next((a for a in reversed(self.appointments) if a.kind == kind), None)

    def check_retry_request(self) -> None:
        if self.waiting_for_staff is None or self._staff_said_retry:
            raise refuse(Refusal.WRONG_STAGE, "no booking is waiting for staff")

    def retry_requested(self) -> None:
        self._staff_said_retry = True

    # ---- booking ---------------------------------------------------------------------------------------

    async def book(self, kind: AppointmentKind, not_before: datetime | None = None) -> Appointment:
        """Books the next attempt of `kind`, confirms it to the patient and schedules its reminders.

        A slot starts no earlier than `not_before` when given (the comparative pair's second block: another
        day); rebookings of the kind after a no-show or cancellation keep that bound."""
        self._attempts[kind] += 1
        self._not_before[kind] = not_before
        self._booking.add(kind)
        self._board.set_next_action(Actor.SYSTEM, f"book_{kind.value}", None)
        try:
            appointment = await self._book_within_bounds(kind, self._attempts[kind])
        finally:
            self._booking.discard(kind)
        self.appointments.append(appointment)
        when = local_text(appointment.starts_at, self._in.patient_timezone)
        self._board.event("appointment_booked", f"{kind.value} on {self._board.local(appointment.starts_at)}")
        self._messenger.to_patient(
            "appointment_booked", f"booked:{appointment.appointment_id}", {"kind": kind.value, "when": when}
        )
        self._reminders[appointment.appointment_id] = asyncio.create_task(self._remind(appointment))
        self._on_booked(appointment)
        return appointment

    async def _book_within_bounds(self, kind: AppointmentKind, attempt: int) -> Appointment:
        while True:
            for tried in range(1, self._config.booking_tries + 1):
                try:
                    return await workflow.execute_activity_method(
                        SchedulingActivities.book_appointment,
                        BookingRequest(
                            pathway_id=self._id,
                            clinic_site=self._in.clinic_site,
                            kind=kind,
                            attempt=attempt,
                            not_before=max(workflow.now(), self._not_before.get(kind) or workflow.now()),
                        ),
                        start_to_close_timeout=BOOKING.start_to_close,
                        schedule_to_close_timeout=BOOKING.schedule_to_close,
                        retry_policy=BOOKING.retry,
                        summary=f"book {kind.value} (attempt {attempt})",
                    )
                except ActivityError as err:
                    reason = err.cause.type if isinstance(err.cause, ApplicationError) else "booking failed"
                    self._board.event("booking_failed", f"{kind.value}: {reason}")
                if tried < self._config.booking_tries:
                    await self._pause(self._config.booking_retry_after, f"retry {kind.value} booking")
            await self._wait_for_staff(AttentionReason.NO_SLOT_AVAILABLE)
            self._board.set_next_action(Actor.SYSTEM, f"book_{kind.value}", None)

    async def _pause(self, delay: timedelta, summary: str) -> None:
        """Waits `delay`, unless the pathway is withdrawn meanwhile."""
        try:
            await workflow.wait_condition(
                lambda: self._withdrawal() is not None, timeout=delay, timeout_summary=summary
            )
        except TimeoutError:
            return
        self._end_if_withdrawn()

    async def _wait_for_staff(self, reason: AttentionReason) -> None:
        """Asks staff (attention, next action) and waits, with no timer, for them to say retry."""
        self.waiting_for_staff, self._staff_said_retry = reason, False
        self._board.raise_attention(reason)
        self._board.set_next_action(Actor.STAFF, "retry_booking", None)
        await workflow.wait_condition(lambda: self._staff_said_retry or self._withdrawal() is not None)
        self._end_if_withdrawn()
        self.waiting_for_staff = None
        self._board.clear_attention(reason)
        self._board.event("booking_retry_requested", reason.words)

    def _end_if_withdrawn(self) -> None:
        withdrawal = self._withdrawal()
        if withdrawal is not None:
            raise PathwayEnded(Outcome.WITHDRAWN, withdrawal.reason)

    # ---- what happens to appointments ------------------------------------------------------------------

    async def record(self, appointment: Appointment, status: AppointmentStatus) -> bool:
        """Records an arrival, no-show or cancellation; rebooks after the last two. True if rebooked.

        The third no-show of a kind closes the pathway `no_show` (PathwayEnded)."""
        await self.set_status(appointment, status)
        if status == AppointmentStatus.ARRIVED:
            return False
        kind = appointment.kind
        if status == AppointmentStatus.NOSHOW:
            self._no_shows[kind] += 1
            if self._no_shows[kind] > self._config.max_no_show_rebookings:
                raise PathwayEnded(
                    Outcome.NO_SHOW, f"{kind.value} appointment missed {self._no_shows[kind]} times"
                )
        else:
            self._cancellations[kind] += 1
            if self._cancellations[kind] > self._config.max_cancellation_rebookings:
                await self._wait_for_staff(AttentionReason.TOO_MANY_CANCELLATIONS)
        await self.book(kind, self._not_before.get(kind))
        return True

    async def set_status(self, appointment: Appointment, status: AppointmentStatus) -> None:
        """Records the status here and in the calendar; a calendar that cannot be updated asks staff."""
        self.appointments = [
            a.with_status(status) if a.appointment_id == appointment.appointment_id else a
            for a in self.appointments
        ]
        self._stop_reminders(appointment.appointment_id)
        # Its confirmation or preparation instructions still held in quiet hours would now mislead.
        self._messenger.drop_held(appointment.appointment_id)
        try:
            await workflow.execute_activity_method(
                SchedulingActivities.change_appointment_status,
                StatusChangeRequest(appointment_id=appointment.appointment_id, status=status),
                start_to_close_timeout=CALENDAR_UPDATE.start_to_close,
                schedule_to_close_timeout=CALENDAR_UPDATE.schedule_to_close,
                retry_policy=CALENDAR_UPDATE.retry,
                summary=f"mark {appointment.kind.value} {status.value}",
            )
        except ActivityError:
            self._board.raise_attention(AttentionReason.CALENDAR_NOT_UPDATED)
        self._board.event(f"appointment_{status.value}", appointment.kind.value)

    def stage_left(self) -> None:
        """The stage an appointment served is over: its reminders have nothing left to remind of."""
        for appointment_id in list(self._reminders):
            self._stop_reminders(appointment_id)

    async def cancel_upcoming(self) -> None:
        """Frees every booked slot still ahead (the pathway has closed)."""
        self.stage_left()
        for appointment in list(self.appointments):
            if appointment.status == AppointmentStatus.BOOKED and appointment.starts_at > workflow.now():
                await self.set_status(appointment, AppointmentStatus.CANCELLED)

    # ---- reminders -------------------------------------------------------------------------------------

    async def _remind(self, appointment: Appointment) -> None:
        when = local_text(appointment.starts_at, self._in.patient_timezone)
        kind = appointment.kind.value
        missed_after = self._config.reminder_missed_after
        pending = reminder_times(
            appointment.starts_at, self._in.patient_timezone, self._config, workflow.now()
        )
        while pending:
            if pending[0].at > workflow.now():
                await workflow.sleep(pending[0].at - workflow.now(), summary=f"{kind} reminder")
            now = workflow.now()
            due = [r for r in pending if r.at <= now] or pending[:1]
            pending = pending[len(due) :]
            by_time = [r for r in due if now - r.at <= missed_after]  # the rule before the hold-back
            held = reminders_to_send(due, now=now, starts_at=appointment.starts_at, missed_after=missed_after)
            send = held if held == by_time or workflow.patched(HOLD_BACK_LATE_REMINDERS) else by_time
            for reminder in due:
                if reminder not in send:  # the worker was down
                    self._board.event(
                        "reminder_missed", f"{kind} reminder ({reminder.label}) missed during an outage"
                    )
                    continue
                self._messenger.to_patient(
                    "appointment_reminder",
                    f"reminder:{appointment.appointment_id}:{reminder.label}",
                    {"kind": kind, "when": when},
                )

    def _stop_reminders(self, appointment_id: str) -> None:
        task = self._reminders.pop(appointment_id, None)
        if task is not None:
            task.cancel()
