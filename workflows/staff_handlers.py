"""What staff record on a pathway beside its clinical steps: a call to a patient who did not answer, how an
attention that waits for them was handled, a patient's wish to move an appointment, red flags a patient
reported outside an open question, a booking to try again.

Mixed into PatientPathwayWorkflow (workflows/pathway.py), which creates the collaborators named here; each
Update's validator refuses what does not apply before it reaches history.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.answers import StepAccepted
    from domain.appointments import AppointmentStatus, appointment_kind_of
    from domain.refusals import Refusal
    from domain.results import (
        AppointmentChangeRequest,
        AttentionResolution,
        RedFlag,
        RedFlagReport,
        StaffCall,
        StaffRequest,
    )
    from domain.stages import AttentionReason, StepName
    from domain.view import ChangeRequestView

from workflows.appointment_book import AppointmentBook
from workflows.refusal import refuse
from workflows.status_board import StatusBoard
from workflows.step_inbox import StepInbox


class StaffHandlers:
    _board: StatusBoard
    _book: AppointmentBook
    _inbox: StepInbox
    _change_requests: list[ChangeRequestView]

    @workflow.update(
        description="Staff: record their call to a patient who did not answer the next-day check-in "
        '(body {"reached", "answers"?, "note", "called_by"}; stage follow_up).'
    )
    async def record_staff_call(self, call: StaffCall) -> StepAccepted:
        """Answers obtained on the call close the check-in; a patient not reached leaves it open for another
        call until its final deadline; reached without answers, it is not obtained."""
        return await self._inbox.accept(StepName.STAFF_CALL, call)

    @record_staff_call.validator
    def _check_staff_call(self, call: StaffCall) -> None:
        self._inbox.check_step(StepName.STAFF_CALL)
        if call.answers is not None and not call.reached:
            raise refuse(Refusal.INVALID_STEP, "answers are recorded only when the patient was reached")
        if call.answers is not None and (refusal := call.answers.refusal_at_follow_up()):
            raise refuse(Refusal.INVALID_STEP, refusal)

    @workflow.update(
        description="Staff: record how the red flags a patient reported were handled "
        '(body {"reason": "red_flags", "note", "resolved_by"}); the pathway can then complete.'
    )
    async def resolve_attention(self, resolution: AttentionResolution) -> StepAccepted:
        """Clears the attention named; the note stays in history, never in search attributes."""
        reason = AttentionReason(resolution.reason)
        if reason in self._board.attention:  # not already cleared by another
            self._board.clear_attention(reason)
            self._board.event("attention_resolved", f"{reason.words}, by {resolution.resolved_by}")
            if reason == AttentionReason.RESCHEDULE_REQUESTED:
                self._change_requests = []
        return self._inbox.answer()

    @resolve_attention.validator
    def _check_resolve_attention(self, resolution: AttentionResolution) -> None:
        self._inbox.check_active()
        if AttentionReason(resolution.reason) not in self._board.attention:
            raise refuse(Refusal.WRONG_STAGE, f"no {resolution.reason.replace('_', ' ')} attention is open")

    def _raise_red_flags(self, flags: list[RedFlag], advice_key: str) -> None:
        raise NotImplementedError  # workflows/after_the_procedure.py

    @workflow.update(
        description="Red flags a patient reported with an answer that could not be recorded (its question "
        "had closed): as any red flags, the patient is told what to do, staff get an urgent message, and "
        "NeedsAttention red_flags waits for resolve_attention."
    )
    async def report_red_flags(self, report: RedFlagReport) -> StepAccepted:
        flags = sorted(set(report.red_flags))
        self._board.event("red_flags_reported", f"by {report.via}, outside a question: {', '.join(flags)}")
        update = workflow.current_update_info()
        assert update is not None
        self._raise_red_flags(flags, f"red-flag-advice:{update.id}")
        return self._inbox.answer()

    @report_red_flags.validator
    def _check_report_red_flags(self, report: RedFlagReport) -> None:
        self._inbox.check_active()

    @workflow.update(
        description="A patient's wish to move or cancel a booked appointment (by their link, a text reply or "
        "a call): staff see NeedsAttention reschedule_requested; the appointment stays until they act."
    )
    async def request_appointment_change(self, request: AppointmentChangeRequest) -> StepAccepted:
        """Staff rebook or cancel it as usual, then record it with resolve_attention."""
        self._change_requests.append(
            ChangeRequestView(
                appointment_id=request.appointment_id, wish=request.wish, via=request.via, at=workflow.now()
            )
        )
        appointment = self._book.find(request.appointment_id)
        assert appointment is not None  # the validator found it
        self._board.event(
            "change_requested", f"{request.wish} the {appointment.kind.value}, via {request.via}"
        )
        self._board.raise_attention(AttentionReason.RESCHEDULE_REQUESTED)
        return self._inbox.answer()

    @request_appointment_change.validator
    def _check_appointment_change_request(self, request: AppointmentChangeRequest) -> None:
        self._inbox.check_active()
        appointment = self._book.find(request.appointment_id)
        if appointment is None:
            raise refuse(Refusal.UNKNOWN_APPOINTMENT, "no such appointment on this pathway")
        if appointment_kind_of(self._board.stage) != appointment.kind:
            raise refuse(Refusal.WRONG_STAGE, "only the appointment the pathway waits on can be changed")
        if appointment.status != AppointmentStatus.BOOKED or appointment.starts_at <= workflow.now():
            raise refuse(
                Refusal.WRONG_STAGE, "only a booked appointment still to come can be moved or cancelled"
            )
        if any(r.appointment_id == request.appointment_id for r in self._change_requests):
            raise refuse(Refusal.WRONG_STAGE, "a change to this appointment is already requested")

    @workflow.update(description="Staff: book again after no slot was found or after too many cancellations.")
    async def retry_booking(self, request: StaffRequest) -> StepAccepted:
        """Staff fixed the calendar or spoke with the patient: the booking is tried again."""
        self._book.retry_requested()
        return self._inbox.answer()

    @retry_booking.validator
    def _check_retry_booking(self, request: StaffRequest) -> None:
        self._inbox.check_active()
        self._book.check_retry_request()
