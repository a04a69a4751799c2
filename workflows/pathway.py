"""The patient pathway: one workflow per referral, reading top to bottom like the table in DESIGN.md §2.

The stage sequence is here. Its collaborators each own their state: the status board (what staff see), the
appointment book (bookings, reminders, no-shows), the step inbox (steps that arrived by Update), the waiter
(waits and deadlines), the messenger (messages in the background) and, for each block, the relief check
child workflow (the pain diary). The Updates, Query and Signal are declared in workflows/pathway_handlers.py
and, for what staff record beside the clinical steps, workflows/staff_handlers.py;
the loop of blocks, relief checks and candidacy decisions is in workflows/blocks_and_candidacy.py, and the
follow-up and outcome check-ins after the procedure in workflows/after_the_procedure.py.
"""

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.answers import PathwayResult
    from domain.appointments import Appointment, AppointmentKind, AppointmentStatus
    from domain.comparative_blocks import Concordance
    from domain.inputs import OutcomesResult, PathwayInput, ReliefOutcome
    from domain.levels import LevelsOnRecord
    from domain.mri import mri_is_recent
    from domain.reminders import local_date, local_text
    from domain.results import (
        Anesthesia,
        Anesthetic,
        ExamResult,
        MriReview,
        ProcedureRecord,
        RedFlag,
        ScreeningReview,
    )
    from domain.screening import screen_referral
    from domain.stages import AttentionReason, Outcome, Stage, StepName
    from domain.view import (
        ChangeRequestView,
        Criteria,
        FollowUpView,
        OutcomeCheckInView,
        ReliefCheckView,
        ScreeningView,
    )
    from domain.webhook_events import PathwayShape

from workflows.after_the_procedure import AfterTheProcedure
from workflows.appointment_book import AppointmentBook
from workflows.blocks_and_candidacy import BlocksAndCandidacy
from workflows.event_outbox import EventOutbox
from workflows.messenger import Messenger
from workflows.outcome_check_ins import OutcomeCheckInsWorkflow
from workflows.pathway_ended import PathwayEnded
from workflows.pathway_handlers import PathwayHandlers
from workflows.relief_check import ReliefCheckWorkflow
from workflows.staff_handlers import StaffHandlers
from workflows.status_board import StatusBoard
from workflows.step_inbox import StepInbox
from workflows.waiting import Waiter


@workflow.defn(name="PatientPathway")
class PatientPathwayWorkflow(BlocksAndCandidacy, AfterTheProcedure, PathwayHandlers, StaffHandlers):
    @workflow.init
    def __init__(self, pathway: PathwayInput) -> None:
        self._in = pathway
        self._config = pathway.config
        self._id = workflow.info().workflow_id
        self._messenger = Messenger(
            self._id,
            pathway.patient_ref,
            self._message_trouble,
            quiet_hours=pathway.config.quiet_hours,
            patient_timezone=pathway.patient_timezone,
        )
        self._board = StatusBoard(pathway.clinic_timezone, self._tell_staff_of)
        self._book = AppointmentBook(
            self._id, pathway, self._board, self._messenger, lambda: self._inbox.withdrawal, self._instruct
        )
        self._inbox = StepInbox(
            self._board, self._book, follows_calendar=pathway.config.deadlines_follow_calendar
        )
        self._waiter = Waiter(self._inbox, self._book, self._board, self._config)
        self._criteria = Criteria()
        self._levels = LevelsOnRecord()
        self._indications: list[str] = []
        self._screening = ScreeningView()
        self._relief = ReliefCheckView()
        self._blocks: list[ReliefCheckView] = []
        self._pair_anesthetic: Anesthetic | None = None
        self._concordance: Concordance | None = None
        self._repeat_blocks = 0
        self._relief_child: workflow.ChildWorkflowHandle[ReliefCheckWorkflow, ReliefOutcome] | None = None
        self._anesthesia: Anesthesia | None = None
        self._follow_up = FollowUpView()
        self._outcomes: list[OutcomeCheckInView] = []
        self._outcomes_child: workflow.ChildWorkflowHandle[OutcomeCheckInsWorkflow, OutcomesResult] | None = (
            None
        )
        self._check_ins_stopped = False
        self._red_flags: list[RedFlag] = []
        self._change_requests: list[ChangeRequestView] = []
        self._attention_count = 0
        self._events = EventOutbox(self._id, pathway.patient_ref, pathway.clinic_site, self._shape)

    # ---- the pathway, top to bottom -------------------------------------------------------------------

    @workflow.run
    async def run(self, pathway: PathwayInput) -> PathwayResult:
        publisher = asyncio.create_task(self._publish_status())
        outbox = asyncio.create_task(self._events.run()) if pathway.webhook_events else None
        try:
            await self._intake()
            await self._mri()
            await self._exam()
            await self._blocks_and_candidacy()
            procedure = await self._dvr()
            await self._after_the_procedure(procedure)
            self._board.finish(Stage.COMPLETED, Outcome.DVR_COMPLETED, self._completion_reason())
            self._book.stage_left()
        except PathwayEnded as ended:
            self._board.finish(Stage.CLOSED, ended.outcome, ended.reason)
            await self._wind_down(ended.outcome)
        await self._messenger.drain()  # bounded: each message gives up within the hour
        await workflow.wait_condition(workflow.all_handlers_finished)
        publisher.cancel()
        self._board.publish()
        if outbox is not None:  # the end is written before the pathway completes
            await workflow.wait_condition(self._events.caught_up)
            outbox.cancel()
        assert self._board.outcome is not None
        return PathwayResult(stage=self._board.stage, status=self._board.status, outcome=self._board.outcome)

    async def _intake(self) -> None:
        self._enter(Stage.INTAKE)
        screening = screen_referral(self._in.referral.symptoms, self._in.referral.history)
        self._criteria.typical_facet_pain = screening.typical_facet_pain
        self._indications = list(screening.indications)
        self._screening = ScreeningView(
            typical_facet_pain=screening.typical_facet_pain, reason=screening.reason
        )
        self._board.event("screened", screening.reason)
        if screening.typical_facet_pain:
            return
        # No rule alone tells a patient "not a candidate": a clinician reviews the failed screen.
        review = await self._waiter.step(
            StepName.SCREENING_REVIEW, ScreeningReview, self._config.screening_review_due
        )
        self._screening = self._screening.model_copy(
            update={"review_proceed": review.proceed, "reviewed_by": review.reviewed_by}
        )
        verdict = "proceed" if review.proceed else "do not proceed"
        self._board.event("screening_reviewed", f"{verdict}, by {review.reviewed_by}")
        if not review.proceed:
            raise PathwayEnded(
                Outcome.NOT_CANDIDATE, f"screening: {screening.reason}; clinician: {review.reason}"
            )

    async def _mri(self) -> None:
        self._enter(Stage.MRI)
        mri = self._in.referral.mri
        today = local_date(workflow.now(), self._in.clinic_timezone)
        if mri_is_recent(mri, today, self._config.mri_max_age):
            self._board.event("mri_on_file", "a recent MRI is on file for review")
        else:
            self._board.event("mri_needed", "no MRI on file" if mri is None else "the MRI on file is too old")
            await self._book.book(AppointmentKind.MRI)
        review = await self._waiter.step(StepName.MRI_REVIEW, MriReview, self._config.mri_review_due)
        self._criteria.mri_facet_swelling = review.facet_swelling
        self._levels.found |= set(review.levels)
        swelling = "yes" if review.facet_swelling else "no"
        self._board.event("mri_reviewed", f"facet swelling: {swelling}, by {review.reviewed_by}")
        if not review.facet_swelling:
            raise PathwayEnded(Outcome.NOT_CANDIDATE, "MRI shows no facet joint swelling")

    async def _exam(self) -> None:
        self._enter(Stage.EXAM)
        await self._book.book(AppointmentKind.EXAM)
        exam = await self._waiter.step(StepName.EXAM, ExamResult, self._config.exam_result_due)
        self._criteria.exam_concordant = exam.palpation_concordant
        self._levels.found |= set(exam.levels)
        concordant = "yes" if exam.palpation_concordant else "no"
        self._board.event("exam_recorded", f"palpation concordant: {concordant}, by {exam.examined_by}")
        if not exam.palpation_concordant:
            raise PathwayEnded(Outcome.NOT_CANDIDATE, "exam did not reproduce the usual pain")

    async def _dvr(self) -> ProcedureRecord:
        self._enter(Stage.DVR_SCHEDULED)
        await self._book.book(AppointmentKind.DVR)
        while True:
            record = await self._waiter.step(
                StepName.PROCEDURE, ProcedureRecord, self._config.procedure_record_due
            )
            if record.status == "completed":
                levels = ", ".join(record.levels_treated) or "-"
                self._board.event(
                    "procedure_completed", f"levels treated: {levels}, by {record.performed_by}"
                )
                return record
            self._board.event("procedure_cancelled", f"rebooking the DVR, by {record.performed_by}")
            cancelled = self._book.current(AppointmentKind.DVR)
            assert cancelled is not None  # the validator required a booked DVR
            await self._book.record(cancelled, AppointmentStatus.CANCELLED)

    # ---- around the stages -----------------------------------------------------------------------------

    def _instruct(self, appointment: Appointment) -> None:
        """What a patient is told to prepare once a block or a DVR is booked."""
        when = local_text(appointment.starts_at, self._in.patient_timezone)
        if appointment.kind == AppointmentKind.BLOCK:
            key = f"block-preparation:{appointment.appointment_id}"
            self._messenger.to_patient("block_preparation", key, {"when": when})
        elif appointment.kind == AppointmentKind.DVR:
            anesthesia = "general anesthesia" if self._anesthesia == "general" else "twilight sedation"
            key = f"preop:{appointment.appointment_id}"
            self._messenger.to_patient("preop_instructions", key, {"when": when, "anesthesia": anesthesia})

    async def _wind_down(self, outcome: Outcome) -> None:
        """Stops the relief check, frees booked slots, and tells the patient."""
        for child in (self._relief_child, self._outcomes_child):
            if child is not None and not child.done():
                child.cancel()
        await self._book.cancel_upcoming()
        letter = "not_candidate" if outcome in (Outcome.NOT_CANDIDATE, Outcome.DECLINED) else "pathway_closed"
        self._messenger.to_patient(letter, "closed")

    async def _publish_status(self) -> None:
        """Writes the status board out once the workflow task's changes are in."""
        while True:
            await workflow.wait_condition(lambda: self._board.unpublished)
            self._board.publish()

    def _shape(self) -> PathwayShape:
        """What upstream systems are told of (workflows/event_outbox.py)."""
        return PathwayShape(
            stage=self._board.stage,
            status=self._board.status,
            outcome=self._board.outcome,
            attention=tuple(self._board.attention),
            appointments=tuple(self._book.appointments),
            block_results=tuple((b.block_number, b.result) for b in self._blocks if b.result is not None),
        )

    def _tell_staff_of(self, reason: AttentionReason) -> None:
        self._attention_count += 1
        if reason == AttentionReason.RED_FLAGS:  # urgent: the codes only, no PHI
            flags = ", ".join(self._red_flags)
            key = f"attention:{self._attention_count}"
            self._messenger.to_staff_urgent(
                "urgent_red_flags", key, {"pathway_id": self._id, "red_flags": flags}
            )
            return
        self._messenger.to_staff(
            "staff_attention",
            f"attention:{self._attention_count}",
            {"pathway_id": self._id, "reason": reason.words},
        )

    def _message_trouble(self, reason: AttentionReason) -> None:
        """A patient message failed: staff step in while the pathway is open; after, they are told of it."""
        if self._board.active:
            self._board.raise_attention(reason)
        else:
            self._messenger.to_staff(
                "message_not_delivered", f"undelivered:{workflow.uuid4()}", {"pathway_id": self._id}
            )
