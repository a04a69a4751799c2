"""The patient pathway: one workflow per referral, reading top to bottom like the table in DESIGN.md §2.

Clinician, patient and staff steps arrive as Updates. Their validators refuse a wrong-stage or invalid step
before it reaches history; the handler puts the step in the inbox and returns the view once the main loop
has taken it, so the answer already shows the stage it led to. Every wait goes through `_wait`, which also
reacts to withdrawal and to appointment no-shows and cancellations.
"""

import asyncio
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

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
    from domain.inputs import PathwayInput, ReliefCheckInput, ReliefOutcome, ReliefProgress
    from domain.mri import mri_is_recent
    from domain.notifications import ReceiptStatus
    from domain.reminders import follow_up_time, local_date, local_text, reminder_times
    from domain.results import (
        AppointmentStatusChange,
        BlockRecord,
        CandidacyDecision,
        ExamResult,
        FollowUpAnswer,
        MriReview,
        PainReport,
        ProcedureRecord,
        StepModel,
        Withdrawal,
    )
    from domain.screening import screen_referral
    from domain.stages import Actor, Outcome, PathwayStatus, ReliefResult, Stage
    from domain.view import NextAction, PathwayView, ReliefCheckView, ReportedPain, TimelineEntry

from workflows import search_attributes as sa
from workflows.activity_options import BOOKING, CALENDAR_UPDATE
from workflows.messaging import send_message
from workflows.relief_check import PROGRESS_SIGNAL, ReliefCheckWorkflow

S = TypeVar("S", bound=StepModel)

# Which stage accepts each clinician or patient step.
STEP_STAGE = {
    "mri_review": Stage.MRI,
    "exam": Stage.EXAM,
    "block": Stage.BLOCK,
    "candidacy_decision": Stage.CANDIDACY,
    "procedure": Stage.DVR_SCHEDULED,
    "follow_up": Stage.FOLLOW_UP,
}
# The appointment a stage waits on; its no-shows and cancellations are handled while in that stage.
STAGE_APPOINTMENT = {
    Stage.MRI: AppointmentKind.MRI,
    Stage.EXAM: AppointmentKind.EXAM,
    Stage.BLOCK: AppointmentKind.BLOCK,
    Stage.DVR_SCHEDULED: AppointmentKind.DVR,
}
# How far a report's or record's own time may run ahead of the workflow's clock.
CLOCK_SKEW = timedelta(minutes=5)


class _Woke(Enum):
    READY = "ready"
    TIMEOUT = "timeout"
    REBOOKED = "rebooked"


class _Ended(Exception):
    """Leaves the pathway early with an outcome."""

    def __init__(self, outcome: Outcome, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


def _refuse(kind: str, message: str) -> ApplicationError:
    """A validator's refusal; `kind` tells the API which status to answer (see api/errors.py)."""
    return ApplicationError(message, type=kind, non_retryable=True)


@workflow.defn(name="PatientPathway")
class PatientPathwayWorkflow:
    @workflow.init
    def __init__(self, pathway: PathwayInput) -> None:
        self._in = pathway
        self._config = pathway.config
        self._id = workflow.info().workflow_id
        self._view = PathwayView(
            pathway_id=self._id,
            clinic_site=pathway.clinic_site,
            patient_ref=pathway.patient_ref,
            profile=pathway.config.profile,
        )
        self._stage_since = workflow.now()
        self._inbox: dict[str, StepModel] = {}
        self._appointment_events: list[AppointmentStatusChange] = []
        self._withdrawal: Withdrawal | None = None
        self._attempts: dict[AppointmentKind, int] = defaultdict(int)
        self._no_shows: dict[AppointmentKind, int] = defaultdict(int)
        self._current: dict[AppointmentKind, Appointment] = {}
        self._reminders: dict[str, asyncio.Task[None]] = {}
        self._background: list[asyncio.Task[Any]] = []
        self._relief_child: workflow.ChildWorkflowHandle[Any, ReliefOutcome] | None = None
        self._attention_raised = 0
        self._booking: set[AppointmentKind] = set()

    # ---- the pathway, top to bottom -------------------------------------------------------------------

    @workflow.run
    async def run(self, pathway: PathwayInput) -> PathwayView:
        try:
            await self._intake()
            await self._mri()
            await self._exam()
            await self._block_and_relief_check()
            await self._candidacy()
            procedure = await self._dvr()
            await self._follow_up(procedure)
            self._finish(Stage.COMPLETED, Outcome.DVR_COMPLETED, "DVR performed and followed up")
        except _Ended as ended:
            self._finish(Stage.CLOSED, ended.outcome, ended.reason)
            await self._wind_down(ended.outcome)
        while not all(task.done() for task in self._background):  # messages still being sent
            await asyncio.gather(*self._background, return_exceptions=True)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._view

    async def _intake(self) -> None:
        self._enter(Stage.INTAKE)
        screening = screen_referral(self._in.referral.symptoms, self._in.referral.history)
        self._view.criteria.typical_facet_pain = screening.typical_facet_pain
        self._view.indications = list(screening.indications)
        self._event("screened", screening.reason)
        if not screening.typical_facet_pain:
            raise _Ended(Outcome.NOT_CANDIDATE, f"screening: {screening.reason}")

    async def _mri(self) -> None:
        self._enter(Stage.MRI)
        mri = self._in.referral.mri
        today = local_date(workflow.now(), self._in.clinic_timezone)
        if mri_is_recent(mri, today, self._config.mri_max_age):
            self._event("mri_on_file", "a recent MRI is on file for review")
        else:
            self._event("mri_needed", "no MRI on file" if mri is None else "the MRI on file is too old")
            await self._book(AppointmentKind.MRI)
        review = await self._await_step("mri_review", MriReview, self._config.mri_review_due)
        self._view.criteria.mri_facet_swelling = review.facet_swelling
        self._event("mri_reviewed", f"facet swelling: {'yes' if review.facet_swelling else 'no'}")
        if not review.facet_swelling:
            raise _Ended(Outcome.NOT_CANDIDATE, "MRI shows no facet joint swelling")

    async def _exam(self) -> None:
        self._enter(Stage.EXAM)
        await self._book(AppointmentKind.EXAM)
        exam = await self._await_step("exam", ExamResult, self._config.exam_result_due)
        self._view.criteria.exam_concordant = exam.palpation_concordant
        self._event("exam_recorded", f"palpation concordant: {'yes' if exam.palpation_concordant else 'no'}")
        if not exam.palpation_concordant:
            raise _Ended(Outcome.NOT_CANDIDATE, "exam did not reproduce the usual pain")

    async def _block_and_relief_check(self) -> None:
        blocks_allowed = 1 + self._config.relief.repeat_blocks_allowed
        for block_number in range(1, blocks_allowed + 1):
            self._enter(Stage.BLOCK)
            appointment = await self._book(AppointmentKind.BLOCK)
            self._tell_patient(
                "block_preparation",
                f"block-preparation:{appointment.appointment_id}",
                {"when": local_text(appointment.starts_at, self._in.patient_timezone)},
            )
            record = await self._await_step("block", BlockRecord, self._config.block_record_due)
            outcome = await self._relief_check(block_number, record)
            if outcome.result == ReliefResult.POSITIVE:
                self._view.criteria.block_positive = True
                return
            if outcome.result == ReliefResult.PROLONGED:
                return  # relief has not worn off: the clinician decides at candidacy
            if outcome.result == ReliefResult.NEGATIVE:
                self._view.criteria.block_positive = False
                raise _Ended(Outcome.NOT_CANDIDATE, f"medial branch block negative: {outcome.reason}")
            self._event("block_indeterminate", outcome.reason)
        raise _Ended(Outcome.NOT_CANDIDATE, "relief check indeterminate after a repeat block")

    async def _relief_check(self, block_number: int, record: BlockRecord) -> ReliefOutcome:
        performed_at = record.performed_at or workflow.now()
        self._view.relief_check = ReliefCheckView(
            block_number=block_number,
            anesthetic=record.anesthetic,
            baseline_pain=record.baseline_pain,
            performed_at=performed_at,
        )
        self._event(
            "block_performed", f"block {block_number}, {record.anesthetic}, baseline {record.baseline_pain}"
        )
        self._enter(Stage.RELIEF_CHECK)
        first_prompt = performed_at + self._config.relief.prompt_offsets[0]
        self._set_next_action(Actor.PATIENT, "pain_report", first_prompt)
        child = await workflow.start_child_workflow(
            ReliefCheckWorkflow.run,
            ReliefCheckInput(
                pathway_id=self._id,
                patient_ref=self._in.patient_ref,
                clinic_timezone=self._in.clinic_timezone,
                block_number=block_number,
                performed_at=performed_at,
                baseline_pain=record.baseline_pain,
                anesthetic=record.anesthetic,
                policy=self._config.relief,
            ),
            id=f"{self._id}-relief-{block_number}",
            static_summary=f"Relief check of medial branch block {block_number}",
        )
        self._relief_child = child
        await self._wait(child.done, None, "relief check")
        outcome = await child
        self._relief_child = None
        view = self._view.relief_check
        view.result, view.peak_relief_pct, view.reason = (
            outcome.result,
            outcome.peak_relief_pct,
            outcome.reason,
        )
        self._clear_attention("no_diary_reports")
        workflow.upsert_search_attributes([sa.BLOCK_RESULT.value_set(outcome.result.value)])
        self._event("relief_evaluated", f"{outcome.result.value}: {outcome.reason}")
        return outcome

    async def _candidacy(self) -> None:
        self._enter(Stage.CANDIDACY)
        due = workflow.now() + self._config.candidacy_decision_due
        self._set_next_action(Actor.CLINICIAN, "candidacy_decision", due)
        self._tell_staff(
            "clinician_decision_due",
            "decision-due:candidacy",
            {"action": "candidacy decision", "when": self._local(due)},
        )
        decision = await self._await_step(
            "candidacy_decision", CandidacyDecision, self._config.candidacy_decision_due
        )
        if not decision.approved:
            raise _Ended(Outcome.DECLINED, decision.reason or "clinician declined DVR")
        self._view.anesthesia = decision.anesthesia
        self._event("candidacy_approved", f"anesthesia: {decision.anesthesia}")

    async def _dvr(self) -> ProcedureRecord:
        self._enter(Stage.DVR_SCHEDULED)
        await self._book_dvr()
        while True:
            record = await self._await_step("procedure", ProcedureRecord, self._config.procedure_record_due)
            if record.status == "completed":
                self._event(
                    "procedure_completed", f"levels treated: {', '.join(record.levels_treated) or '-'}"
                )
                return record
            cancelled = self._current[AppointmentKind.DVR]
            await self._change_status(cancelled, AppointmentStatus.CANCELLED)
            self._event("procedure_cancelled", "rebooking the DVR")
            await self._book_dvr()

    async def _book_dvr(self) -> None:
        appointment = await self._book(AppointmentKind.DVR)
        self._tell_patient(
            "preop_instructions",
            f"preop:{appointment.appointment_id}",
            {
                "when": local_text(appointment.starts_at, self._in.patient_timezone),
                "anesthesia": "general anesthesia"
                if self._view.anesthesia == "general"
                else "twilight sedation",
            },
        )

    async def _follow_up(self, procedure: ProcedureRecord) -> None:
        self._enter(Stage.FOLLOW_UP)
        done_at = procedure.completed_at or workflow.now()
        check_in_at = follow_up_time(done_at, self._in.patient_timezone, self._config)
        self._set_next_action(Actor.PATIENT, "follow_up", check_in_at + self._config.follow_up_answer_window)
        early = await self._wait(
            lambda: "follow_up" in self._inbox, check_in_at - workflow.now(), "next-day check-in"
        )
        if early != _Woke.READY:
            self._tell_patient("follow_up_checkin", "follow-up", {})
            self._event("follow_up_check_in_sent")
        answer = await self._await_step(
            "follow_up",
            FollowUpAnswer,
            self._config.follow_up_answer_window,
            actor=Actor.PATIENT,
            since=workflow.now(),
        )
        self._view.follow_up.pain = answer.pain
        self._view.follow_up.returned_to_work = answer.returned_to_work
        self._view.follow_up.red_flags = list(answer.red_flags)
        self._event(
            "follow_up_answered", f"pain {answer.pain}, red flags: {', '.join(answer.red_flags) or 'none'}"
        )
        if answer.red_flags:
            self._raise_attention("red_flags_reported")

    # ---- waiting ---------------------------------------------------------------------------------------

    async def _await_step(
        self,
        step: str,
        model: type[S],
        due_after: timedelta,
        *,
        actor: Actor = Actor.CLINICIAN,
        since: datetime | None = None,
    ) -> S:
        """Waits for `step`, escalating once when it is late; a rebooked appointment resets the deadline.

        The deadline counts from `since`, else from the stage's appointment or the stage's start."""
        overdue = f"{step}_overdue"
        while True:
            due_at = since + due_after if since is not None else self._due_at(due_after)
            late = workflow.now() >= due_at and overdue in self._view.attention_reasons
            if not late:
                self._clear_attention(overdue)
            if late and actor == Actor.PATIENT:
                self._set_next_action(Actor.STAFF, "call_patient", due_at)
            else:
                self._set_next_action(actor, step, due_at)
            woke = await self._wait(
                lambda: step in self._inbox, None if late else due_at - workflow.now(), f"{step} due"
            )
            if woke == _Woke.READY:
                self._clear_attention(overdue)
                value = self._inbox.pop(step)
                assert isinstance(value, model)
                return value
            if woke == _Woke.TIMEOUT:
                self._raise_attention(overdue)

    def _due_at(self, due_after: timedelta) -> datetime:
        """Deadlines count from the end of the stage's appointment (clinical) or from entering the stage."""
        since = self._stage_since
        kind = STAGE_APPOINTMENT.get(self._view.stage)
        if self._config.deadlines_follow_calendar and kind in self._current:
            since = max(since, self._current[kind].ends_at)
        return since + due_after

    async def _wait(self, ready: Callable[[], bool], timeout: timedelta | None, summary: str) -> _Woke:
        """Waits for `ready()` or the timeout, handling withdrawal and appointment changes meanwhile."""
        deadline = None if timeout is None else workflow.now() + timeout

        def woken() -> bool:
            return bool(ready()) or self._withdrawal is not None or bool(self._appointment_events)

        while True:
            if not woken():
                remaining = None if deadline is None else deadline - workflow.now()
                if remaining is not None and remaining <= timedelta(0):
                    return _Woke.TIMEOUT
                try:
                    await workflow.wait_condition(woken, timeout=remaining, timeout_summary=summary)
                except TimeoutError:
                    return _Woke.TIMEOUT
            if self._withdrawal is not None:
                raise _Ended(Outcome.WITHDRAWN, self._withdrawal.reason)
            if self._appointment_events:
                if await self._handle_appointment_events():
                    return _Woke.REBOOKED
                continue
            return _Woke.READY

    async def _handle_appointment_events(self) -> bool:
        """Records arrivals; rebooks after a no-show (up to the limit) or a cancellation. True if rebooked."""
        rebooked = False
        while self._appointment_events:
            change = self._appointment_events.pop(0)
            appointment = self._appointment(change.appointment_id)
            status = AppointmentStatus(change.status)
            await self._change_status(appointment, status)
            if status == AppointmentStatus.ARRIVED:
                continue
            kind = appointment.kind
            if status == AppointmentStatus.NOSHOW:
                self._no_shows[kind] += 1
                if self._no_shows[kind] > self._config.max_no_show_rebookings:
                    raise _Ended(
                        Outcome.NO_SHOW, f"{kind.value} appointment missed {self._no_shows[kind]} times"
                    )
            await self._book(kind)
            rebooked = True
        return rebooked

    # ---- appointments ----------------------------------------------------------------------------------

    async def _book(self, kind: AppointmentKind) -> Appointment:
        """Books the next attempt of `kind`; if nothing fits, asks staff and tries again later."""
        self._attempts[kind] += 1
        attempt = self._attempts[kind]
        self._booking.add(kind)
        self._set_next_action(Actor.SYSTEM, f"book_{kind.value}", None)
        while True:
            request = BookingRequest(
                pathway_id=self._id,
                clinic_site=self._in.clinic_site,
                kind=kind,
                attempt=attempt,
                not_before=workflow.now(),
            )
            try:
                appointment = await workflow.execute_activity_method(
                    SchedulingActivities.book_appointment,
                    request,
                    start_to_close_timeout=BOOKING.start_to_close,
                    schedule_to_close_timeout=BOOKING.schedule_to_close,
                    retry_policy=BOOKING.retry,
                    summary=f"book {kind.value} (attempt {attempt})",
                )
                break
            except ActivityError as err:
                reason = err.cause.type if isinstance(err.cause, ApplicationError) else "booking failed"
                self._event("booking_failed", f"{kind.value}: {reason}")
                self._raise_attention(f"{kind.value}_booking_failed")
                await self._wait(
                    lambda: False, self._config.booking_retry_after, f"retry {kind.value} booking"
                )
        self._clear_attention(f"{kind.value}_booking_failed")
        self._booking.discard(kind)
        self._current[kind] = appointment
        self._view.appointments.append(appointment)
        self._event("appointment_booked", f"{kind.value} on {self._local(appointment.starts_at)}")
        self._tell_patient(
            "appointment_booked",
            f"booked:{appointment.appointment_id}",
            {"kind": kind.value, "when": local_text(appointment.starts_at, self._in.patient_timezone)},
        )
        self._reminders[appointment.appointment_id] = asyncio.create_task(self._remind(appointment))
        return appointment

    async def _remind(self, appointment: Appointment) -> None:
        for reminder in reminder_times(
            appointment.starts_at, self._in.patient_timezone, self._config, workflow.now()
        ):
            await workflow.sleep(reminder.at - workflow.now(), summary=f"{appointment.kind.value} reminder")
            self._tell_patient(
                "appointment_reminder",
                f"reminder:{appointment.appointment_id}:{reminder.label}",
                {
                    "kind": appointment.kind.value,
                    "when": local_text(appointment.starts_at, self._in.patient_timezone),
                },
            )

    async def _change_status(self, appointment: Appointment, status: AppointmentStatus) -> None:
        self._set_appointment_status(appointment.appointment_id, status)
        if status != AppointmentStatus.ARRIVED and appointment.appointment_id in self._reminders:
            self._reminders.pop(appointment.appointment_id).cancel()
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
            self._raise_attention("calendar_not_updated")  # the pathway goes on; staff fix the calendar
        self._event(f"appointment_{status.value}", appointment.kind.value)

    def _appointment(self, appointment_id: str) -> Appointment:
        return next(a for a in self._view.appointments if a.appointment_id == appointment_id)

    def _set_appointment_status(self, appointment_id: str, status: AppointmentStatus) -> None:
        self._view.appointments = [
            a.with_status(status) if a.appointment_id == appointment_id else a
            for a in self._view.appointments
        ]
        for kind, current in list(self._current.items()):
            if current.appointment_id == appointment_id:
                self._current[kind] = current.with_status(status)

    # ---- ending ----------------------------------------------------------------------------------------

    def _finish(self, stage: Stage, outcome: Outcome, reason: str) -> None:
        self._view.stage = stage
        self._view.status = PathwayStatus.COMPLETED if stage == Stage.COMPLETED else PathwayStatus.CLOSED
        self._view.outcome, self._view.outcome_reason = outcome, reason
        self._view.next_action = None
        # A closed pathway needs no one; a completed one keeps what its follow-up flagged.
        kept = [
            r for r in self._view.attention_reasons if stage == Stage.COMPLETED and r == "red_flags_reported"
        ]
        self._view.attention_reasons, self._view.needs_attention = kept, bool(kept)
        workflow.upsert_search_attributes(
            [
                sa.NEEDS_ATTENTION.value_set(bool(kept)),
                sa.PATHWAY_STAGE.value_set(stage.value),
                sa.PATHWAY_OUTCOME.value_set(outcome.value),
                sa.NEXT_ACTION_DUE.value_unset(),
            ]
        )
        self._event("pathway_" + stage.value, f"{outcome.value}: {reason}")
        self._show_details()

    async def _wind_down(self, outcome: Outcome) -> None:
        """Stops what is still running, frees booked slots, and tells the patient."""
        for task in self._reminders.values():
            task.cancel()
        if self._relief_child is not None and not self._relief_child.done():
            self._relief_child.cancel()
        for appointment in list(self._view.appointments):
            if appointment.status == AppointmentStatus.BOOKED and appointment.starts_at > workflow.now():
                await self._change_status(appointment, AppointmentStatus.CANCELLED)
        letter = "not_candidate" if outcome in (Outcome.NOT_CANDIDATE, Outcome.DECLINED) else "pathway_closed"
        self._tell_patient(letter, "closed", {})

    # ---- updates: clinician, patient and staff steps -----------------------------------------------------

    @workflow.update
    async def record_mri_review(self, review: MriReview) -> PathwayView:
        return await self._accept("mri_review", review)

    @record_mri_review.validator
    def _check_mri_review(self, review: MriReview) -> None:
        self._require_step("mri_review")

    @workflow.update
    async def record_exam(self, exam: ExamResult) -> PathwayView:
        return await self._accept("exam", exam)

    @record_exam.validator
    def _check_exam(self, exam: ExamResult) -> None:
        self._require_step("exam", booked=AppointmentKind.EXAM)

    @workflow.update
    async def record_block(self, block: BlockRecord) -> PathwayView:
        return await self._accept("block", block)

    @record_block.validator
    def _check_block(self, block: BlockRecord) -> None:
        self._require_step("block", booked=AppointmentKind.BLOCK)
        if block.performed_at is not None:
            now = workflow.now()
            if block.performed_at > now + CLOCK_SKEW:
                raise _refuse("InvalidStep", "performed_at is in the future")
            if block.performed_at < now - self._config.relief.return_check_offset:
                raise _refuse("InvalidStep", "performed_at is too long ago to start a pain diary")

    @workflow.update
    async def record_pain_report(self, report: PainReport) -> PathwayView:
        at = report.recorded_at or workflow.now()
        assert self._relief_child is not None
        await self._relief_child.signal(ReliefCheckWorkflow.report, ReportedPain(at=at, pain=report.pain))
        self._view.relief_check.reports.append(ReportedPain(at=at, pain=report.pain))
        self._clear_attention("no_diary_reports")
        return self._view

    @record_pain_report.validator
    def _check_pain_report(self, report: PainReport) -> None:
        self._require_active()
        if self._view.stage != Stage.RELIEF_CHECK or self._relief_child is None or self._relief_child.done():
            raise _refuse(
                "WrongStage", f"pain reports are taken in relief_check, not {self._view.stage.value}"
            )
        if report.recorded_at is not None:
            performed_at = self._view.relief_check.performed_at
            assert performed_at is not None
            if report.recorded_at > workflow.now() + CLOCK_SKEW:
                raise _refuse("InvalidStep", "recorded_at is in the future")
            if report.recorded_at < performed_at:
                raise _refuse("InvalidStep", "recorded_at is before the block was performed")

    @workflow.update
    async def record_candidacy_decision(self, decision: CandidacyDecision) -> PathwayView:
        return await self._accept("candidacy_decision", decision)

    @record_candidacy_decision.validator
    def _check_candidacy_decision(self, decision: CandidacyDecision) -> None:
        self._require_step("candidacy_decision")
        if decision.approved and decision.anesthesia is None:
            raise _refuse("InvalidStep", "anesthesia (twilight or general) is required when approving")

    @workflow.update
    async def record_procedure(self, procedure: ProcedureRecord) -> PathwayView:
        return await self._accept("procedure", procedure)

    @record_procedure.validator
    def _check_procedure(self, procedure: ProcedureRecord) -> None:
        self._require_step("procedure", booked=AppointmentKind.DVR)
        if procedure.completed_at is not None and procedure.completed_at > workflow.now() + CLOCK_SKEW:
            raise _refuse("InvalidStep", "completed_at is in the future")
        if procedure.status == "completed" and not procedure.levels_treated:
            raise _refuse("InvalidStep", "levels_treated is required when the procedure is completed")

    @workflow.update
    async def record_follow_up(self, answer: FollowUpAnswer) -> PathwayView:
        return await self._accept("follow_up", answer)

    @record_follow_up.validator
    def _check_follow_up(self, answer: FollowUpAnswer) -> None:
        self._require_step("follow_up")

    @workflow.update
    async def record_appointment_status(self, change: AppointmentStatusChange) -> PathwayView:
        self._set_appointment_status(change.appointment_id, AppointmentStatus(change.status))
        self._appointment_events.append(change)
        return self._view

    @record_appointment_status.validator
    def _check_appointment_status(self, change: AppointmentStatusChange) -> None:
        self._require_active()
        appointment = next(
            (a for a in self._view.appointments if a.appointment_id == change.appointment_id), None
        )
        if appointment is None:
            raise _refuse("UnknownAppointment", "no such appointment on this pathway")
        if appointment.status != AppointmentStatus.BOOKED:
            raise _refuse("WrongStage", f"the appointment is already {appointment.status.value}")
        if change.status != "arrived" and STAGE_APPOINTMENT.get(self._view.stage) != appointment.kind:
            raise _refuse(
                "WrongStage",
                f"a {appointment.kind.value} appointment cannot change in {self._view.stage.value}",
            )
        if any(e.appointment_id == change.appointment_id for e in self._appointment_events):
            raise _refuse("WrongStage", "a change to this appointment is already being processed")

    @workflow.update
    async def withdraw(self, withdrawal: Withdrawal) -> PathwayView:
        self._withdrawal = withdrawal
        await workflow.wait_condition(lambda: self._view.status != PathwayStatus.ACTIVE)
        return self._view

    @withdraw.validator
    def _check_withdraw(self, withdrawal: Withdrawal) -> None:
        self._require_active()
        if self._withdrawal is not None:
            raise _refuse("WrongStage", "the pathway is already being withdrawn")

    @workflow.query
    def view(self) -> PathwayView:
        return self._view

    @workflow.signal(name=PROGRESS_SIGNAL)
    def relief_progress(self, progress: ReliefProgress) -> None:
        """What the relief check reports as it goes."""
        if self._view.stage != Stage.RELIEF_CHECK or self._view.status != PathwayStatus.ACTIVE:
            return  # a signal that crossed the check's end
        if progress.event == "prompt_sent":
            self._event("diary_prompt_sent", f"prompt {progress.prompt_number}")
            self._set_next_action(Actor.PATIENT, "pain_report", progress.answer_due_at)
        elif progress.event == "no_reports" and not self._view.relief_check.reports:
            self._raise_attention("no_diary_reports")

    async def _accept(self, step: str, value: StepModel) -> PathwayView:
        """Hands the step to the main loop and answers once it has been taken (and the stage moved on)."""
        self._inbox[step] = value
        await workflow.wait_condition(
            lambda: step not in self._inbox or self._view.status != PathwayStatus.ACTIVE
        )
        if step in self._inbox:  # the pathway ended (withdrawal, no-show) before it took the step
            del self._inbox[step]
            raise _refuse("PathwayClosed", f"the pathway ended before {step} was taken")
        return self._view

    def _require_active(self) -> None:
        if self._view.status != PathwayStatus.ACTIVE:
            raise _refuse("PathwayClosed", f"the pathway is {self._view.status.value}")
        if self._withdrawal is not None:
            raise _refuse("PathwayClosed", "the pathway is being withdrawn")

    def _require_step(self, step: str, *, booked: AppointmentKind | None = None) -> None:
        self._require_active()
        expected = STEP_STAGE[step]
        if self._view.stage != expected:
            raise _refuse(
                "WrongStage", f"{step} is recorded in {expected.value}, not {self._view.stage.value}"
            )
        if step in self._inbox:
            raise _refuse("WrongStage", f"{step} has already been recorded")
        if booked is not None:
            current = self._current.get(booked)
            usable = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)
            if booked in self._booking or current is None or current.status not in usable:
                raise _refuse("WrongStage", f"the {booked.value} appointment is not booked yet")

    # ---- what operations staff see ----------------------------------------------------------------------

    def _enter(self, stage: Stage) -> None:
        self._view.stage, self._stage_since = stage, workflow.now()
        workflow.upsert_search_attributes([sa.PATHWAY_STAGE.value_set(stage.value)])
        self._event("stage_entered", stage.value)
        self._show_details()

    def _set_next_action(self, actor: Actor, action: str, due_at: datetime | None) -> None:
        self._view.next_action = NextAction(actor=actor, action=action, due_at=due_at)
        workflow.upsert_search_attributes(
            [sa.NEXT_ACTION_DUE.value_set(due_at) if due_at else sa.NEXT_ACTION_DUE.value_unset()]
        )
        self._show_details()

    def _raise_attention(self, reason: str) -> None:
        """Flags the pathway for a person and tells staff, once per reason while it stands."""
        if reason in self._view.attention_reasons or self._view.status != PathwayStatus.ACTIVE:
            return
        self._view.attention_reasons.append(reason)
        self._view.needs_attention = True
        self._attention_raised += 1
        workflow.upsert_search_attributes([sa.NEEDS_ATTENTION.value_set(True)])
        self._event("needs_attention", reason.replace("_", " "))
        self._show_details()
        self._tell_staff(
            "staff_attention",
            f"attention:{self._attention_raised}",
            {"pathway_id": self._id, "reason": reason.replace("_", " ")},
        )

    def _clear_attention(self, reason: str) -> None:
        if reason not in self._view.attention_reasons:
            return
        self._view.attention_reasons.remove(reason)
        self._view.needs_attention = bool(self._view.attention_reasons)
        workflow.upsert_search_attributes([sa.NEEDS_ATTENTION.value_set(self._view.needs_attention)])
        self._event("attention_cleared", reason.replace("_", " "))
        self._show_details()

    def _event(self, event: str, detail: str = "") -> None:
        self._view.timeline.append(TimelineEntry(at=workflow.now(), event=event, detail=detail))

    def _local(self, at: datetime) -> str:
        return local_text(at, self._in.clinic_timezone)

    def _show_details(self) -> None:
        """The plain-words summary the Temporal UI shows: stage, what it waits for and since when."""
        view = self._view
        lines = [f"**Stage:** {view.stage.value} (since {self._local(self._stage_since)})"]
        if view.outcome is not None:  # the reason may be free text, so the UI shows only the outcome
            lines.append(f"**Outcome:** {view.outcome.value}")
        if view.next_action is not None:
            due = f", due {self._local(view.next_action.due_at)}" if view.next_action.due_at else ""
            lines.append(f"**Waiting for:** {view.next_action.actor.value} to {view.next_action.action}{due}")
        if view.needs_attention:
            lines.append(
                f"**Needs attention:** {', '.join(r.replace('_', ' ') for r in view.attention_reasons)}"
            )
        workflow.set_current_details("\n\n".join(lines))

    # Messages go out in the background: a provider outage must not hold the pathway up. The run waits for
    # them all before it ends.

    def _tell_patient(self, template: str, key: str, params: dict[str, str]) -> None:
        self._background.append(asyncio.create_task(self._send_to_patient(template, key, params)))

    def _tell_staff(self, template: str, key: str, params: dict[str, str]) -> None:
        self._background.append(
            asyncio.create_task(
                send_message(pathway_id=self._id, key=key, template=template, patient_ref=None, params=params)
            )
        )

    async def _send_to_patient(self, template: str, key: str, params: dict[str, str]) -> None:
        receipt = await send_message(
            pathway_id=self._id, key=key, template=template, patient_ref=self._in.patient_ref, params=params
        )
        if receipt is None:
            self._raise_attention("message_not_delivered")
        elif receipt.status == ReceiptStatus.SUPPRESSED:
            self._raise_attention("patient_unreachable")
