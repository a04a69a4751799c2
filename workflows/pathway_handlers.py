"""The pathway's Updates, Query and Signals: what clinicians, patients, staff, the relief check and the SMS
gateway's delivery reports send it.

Each Update has a validator that refuses a wrong-stage or invalid step before it reaches history (the API
answers 409 or 422 at once); the handler hands the step to the stage sequence and answers once it is taken.
Answers are small (`StepAccepted`): the API reads the view after the step.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.answers import StepAccepted
    from domain.appointments import AppointmentStatus
    from domain.comparative_blocks import Concordance
    from domain.config import PathwayConfig
    from domain.inputs import OutcomeProgress, PathwayInput, ProgressEvent, ReliefProgress
    from domain.levels import LevelsOnRecord
    from domain.notifications import BouncedMessage
    from domain.refusals import Refusal
    from domain.results import (
        Anesthesia,
        Anesthetic,
        AppointmentStatusChange,
        BlockRecord,
        CandidacyDecision,
        ExamResult,
        FollowUpAnswer,
        MriReview,
        ProcedureRecord,
        ScreeningReview,
        Withdrawal,
    )
    from domain.stages import AttentionReason, ReliefResult, Stage, StepName
    from domain.view import (
        ChangeRequestView,
        Criteria,
        FollowUpView,
        OutcomeCheckInView,
        PathwayView,
        ReliefCheckView,
        ScreeningView,
        Versioned,
    )
    from workflows.view_version import VIEW_CODE_VERSION

from workflows.appointment_book import AppointmentBook
from workflows.messenger import Messenger
from workflows.refusal import CLOCK_SKEW, refuse
from workflows.status_board import StatusBoard
from workflows.step_inbox import StepInbox


class PathwayHandlers:
    """Mixed into PatientPathwayWorkflow, which creates the collaborators named here."""

    _id: str
    _in: PathwayInput
    _config: PathwayConfig
    _anesthesia: Anesthesia | None
    _board: StatusBoard
    _book: AppointmentBook
    _inbox: StepInbox
    _messenger: Messenger
    _criteria: Criteria
    _levels: LevelsOnRecord
    _indications: list[str]
    _screening: ScreeningView
    _relief: ReliefCheckView
    _blocks: list[ReliefCheckView]
    _pair_anesthetic: Anesthetic | None
    _concordance: Concordance | None
    _repeat_blocks: int
    _follow_up: FollowUpView
    _outcomes: list[OutcomeCheckInView]
    _change_requests: list[ChangeRequestView]
    _check_ins_stopped: bool

    def _on_outcome_progress(self, progress: OutcomeProgress) -> None:
        raise NotImplementedError  # workflows/after_the_procedure.py

    @workflow.update(
        description="Record the clinician's review of a referral that failed the screen (stage intake)."
    )
    async def record_screening_review(self, review: ScreeningReview) -> StepAccepted:
        """Proceed moves on to the MRI; otherwise the pathway closes not_candidate."""
        return await self._inbox.accept(StepName.SCREENING_REVIEW, review)

    @record_screening_review.validator
    def _check_screening_review(self, review: ScreeningReview) -> None:
        self._inbox.check_step(StepName.SCREENING_REVIEW)
        if self._screening.typical_facet_pain is not False:
            raise refuse(
                Refusal.WRONG_STAGE, "no screening review is waiting: the referral passed the screen"
            )

    @workflow.update(description="Record the clinician's MRI review (stage mri).")
    async def record_mri_review(self, review: MriReview) -> StepAccepted:
        """The MRI review: swelling moves on to the exam, none closes the pathway not_candidate."""
        return await self._inbox.accept(StepName.MRI_REVIEW, review)

    @record_mri_review.validator
    def _check_mri_review(self, review: MriReview) -> None:
        self._inbox.check_step(StepName.MRI_REVIEW)
        if refusal := self._levels.refusal_of_review(review):
            raise refuse(Refusal.INVALID_STEP, refusal)

    @workflow.update(description="Record the physician's exam (stage exam; taken once the exam is booked).")
    async def record_exam(self, exam: ExamResult) -> StepAccepted:
        """The exam: concordant palpation moves on to the block, otherwise not_candidate."""
        return await self._inbox.accept(StepName.EXAM, exam)

    @record_exam.validator
    def _check_exam(self, exam: ExamResult) -> None:
        self._inbox.check_step(StepName.EXAM)

    @workflow.update(
        description="Record the medial branch block as performed (stage block); the diary starts."
    )
    async def record_block(self, block: BlockRecord) -> StepAccepted:
        """The block, with anesthetic and baseline pain; the relief check starts at `performed_at`."""
        return await self._inbox.accept(StepName.BLOCK, block)

    @record_block.validator
    def _check_block(self, block: BlockRecord) -> None:
        self._inbox.check_step(StepName.BLOCK)
        if refusal := self._levels.refusal_of_block(block):
            raise refuse(Refusal.INVALID_STEP, refusal)
        expected = self._pair_anesthetic
        if expected is not None and block.anesthetic != expected and block.override_reason is None:
            raise refuse(
                Refusal.INVALID_STEP,
                f"comparative blocks: this block is given with {expected}; give override_reason to use"
                f" {block.anesthetic}",
            )
        if block.performed_at is not None:
            now = workflow.now()
            if block.performed_at > now + CLOCK_SKEW:
                raise refuse(Refusal.INVALID_STEP, "performed_at is in the future")
            if block.performed_at < now - self._config.relief.return_check_offset:
                raise refuse(Refusal.INVALID_STEP, "performed_at is too long ago to start a pain diary")

    @workflow.update(description="Record the candidacy decision and the anesthesia chosen (stage candidacy).")
    async def record_candidacy_decision(self, decision: CandidacyDecision) -> StepAccepted:
        """Approval (with twilight sedation or general anesthesia) books the DVR; a decline closes."""
        return await self._inbox.accept(StepName.CANDIDACY_DECISION, decision)

    @record_candidacy_decision.validator
    def _check_candidacy_decision(self, decision: CandidacyDecision) -> None:
        self._inbox.check_step(StepName.CANDIDACY_DECISION)
        if decision.approved and decision.repeat_block:
            raise refuse(Refusal.INVALID_STEP, "approve, or book another block, not both")
        if decision.repeat_block:
            used = self._repeat_blocks >= self._config.relief.repeat_blocks_allowed
            if used and decision.override_reason is None:
                raise refuse(
                    Refusal.INVALID_STEP, "the policy's repeat blocks are used: override_reason is required"
                )
            return
        if not decision.approved:
            return
        if decision.anesthesia is None:
            raise refuse(Refusal.INVALID_STEP, "anesthesia (twilight or general) is required when approving")
        if decision.safety_checklist is None or not decision.safety_checklist.complete:
            raise refuse(Refusal.INVALID_STEP, "every item of the safety_checklist must be true to approve")
        if self._relief.result != ReliefResult.POSITIVE and decision.override_reason is None:
            raise refuse(
                Refusal.INVALID_STEP,
                "the block was not positive: override_reason is required to approve",
            )

    @workflow.update(description="Record the DVR as completed, or cancelled to rebook (stage dvr_scheduled).")
    async def record_procedure(self, procedure: ProcedureRecord) -> StepAccepted:
        """A completed DVR moves on to the next-day follow-up; a cancelled one is rebooked."""
        return await self._inbox.accept(StepName.PROCEDURE, procedure)

    @record_procedure.validator
    def _check_procedure(self, procedure: ProcedureRecord) -> None:
        self._inbox.check_step(StepName.PROCEDURE)
        if procedure.completed_at is not None:
            if procedure.completed_at > workflow.now() + CLOCK_SKEW:
                raise refuse(Refusal.INVALID_STEP, "completed_at is in the future")
            # The stage began when the DVR was approved: a procedure cannot have been completed before it.
            if procedure.completed_at < self._board.stage_since - CLOCK_SKEW:
                raise refuse(Refusal.INVALID_STEP, "completed_at is before the DVR was approved")
        if procedure.status == "completed" and not procedure.levels_treated:
            raise refuse(Refusal.INVALID_STEP, "levels_treated is required when the procedure is completed")
        if refusal := self._levels.refusal_of_procedure(procedure):
            raise refuse(Refusal.INVALID_STEP, refusal)

    @workflow.update(description="Record the next-day check-in: pain, return to work, red flags (follow_up).")
    async def record_follow_up(self, answer: FollowUpAnswer) -> StepAccepted:
        """The patient's answer, or staff's record of the call; red flags wait for `resolve_attention`."""
        return await self._inbox.accept(StepName.FOLLOW_UP, answer)

    @record_follow_up.validator
    def _check_follow_up(self, answer: FollowUpAnswer) -> None:
        self._inbox.check_step(StepName.FOLLOW_UP)

    @workflow.update(description="Record that the patient arrived at, missed or cancelled an appointment.")
    async def record_appointment_status(self, change: AppointmentStatusChange) -> StepAccepted:
        """A no-show is rebooked up to the limit, then the pathway closes no_show; a cancellation is
        rebooked. Answers once the status is recorded (the rebooking goes on in the background)."""
        self._inbox.appointment_changes.append(change)
        await workflow.wait_condition(lambda: self._recorded(change) or not self._board.active)
        return self._inbox.answer()

    @record_appointment_status.validator
    def _check_appointment_status(self, change: AppointmentStatusChange) -> None:
        self._inbox.check_appointment_change(change)

    @workflow.update(
        description="Withdraw the pathway: it closes withdrawn and frees its booked slots; after the DVR, "
        "the check-ins still to come are stopped and it completes dvr_completed."
    )
    async def withdraw(self, withdrawal: Withdrawal) -> StepAccepted:
        """Answers once the pathway has closed, or once its check-ins have stopped."""
        self._inbox.withdrawal = withdrawal
        await workflow.wait_condition(lambda: not self._board.active or self._check_ins_stopped)
        return self._inbox.answer()

    @withdraw.validator
    def _check_withdraw(self, withdrawal: Withdrawal) -> None:
        self._inbox.check_active()
        if self._check_ins_stopped:
            raise refuse(Refusal.PATHWAY_CLOSED, "the patient has already withdrawn")

    @workflow.query(description="The pathway view (the relief check's diary is read from its child).")
    def view(self) -> PathwayView:
        """Where the pathway stands: stage, criteria, appointments, next action, attention, timeline."""
        board = self._board
        return PathwayView(
            pathway_id=self._id,
            stage=board.stage,
            status=board.status,
            outcome=board.outcome,
            outcome_reason=board.outcome_reason,
            clinic_site=self._in.clinic_site,
            patient_ref=self._in.patient_ref,
            profile=self._config.profile,
            policy_version=self._in.policy_version,
            criteria=self._criteria,
            indications=self._indications,
            screening=self._screening,
            appointments=self._book.appointments,
            relief_check=self._relief,
            blocks=self._blocks,
            concordance=self._concordance,
            anesthesia=self._anesthesia,
            follow_up=self._follow_up,
            outcomes=self._outcomes,
            change_requests=self._change_requests,
            needs_attention=bool(board.attention),
            attention_reasons=board.attention,
            next_action=board.next_action,
            timeline=board.timeline,
        )

    @workflow.query(description="The pathway view and the version of the code that read it (the API's copy).")
    def versioned_view(self) -> Versioned[PathwayView]:
        return Versioned[PathwayView](version=VIEW_CODE_VERSION, value=self.view())

    @workflow.signal(description="Progress of the relief check: prompts sent, silence, delivery trouble.")
    def relief_progress(self, progress: ReliefProgress) -> None:
        """Sent by the relief check child workflow as its diary goes."""
        if self._board.stage != Stage.RELIEF_CHECK or not self._board.active:
            return  # a signal that crossed the check's end
        if progress.event == ProgressEvent.FIRST_REPORT:
            self._board.clear_attention(AttentionReason.NO_DIARY_REPORTS)
        elif progress.event == ProgressEvent.MESSAGES_MISSED:
            self._board.event("diary_messages_missed", progress.detail or "")
        elif progress.event == ProgressEvent.NO_REPORTS:
            self._board.raise_attention(AttentionReason.NO_DIARY_REPORTS)
        else:
            self._board.raise_attention(AttentionReason(progress.event.value))

    @workflow.signal(description="Progress of the outcome check-ins: sent, a call needed, closed.")
    def outcome_progress(self, progress: OutcomeProgress) -> None:
        """Sent by the outcome check-ins child workflow as the check-ins go."""
        self._on_outcome_progress(progress)

    @workflow.signal(
        description="The SMS gateway reported that a message to the patient it had taken cannot be "
        "delivered, for good (the number cannot take SMS): it is sent again on the patient's other channel; "
        "with none left, NeedsAttention patient_unreachable."
    )
    def message_bounced(self, bounced: BouncedMessage) -> None:
        """Sent by the API on the gateway's delivery report (api/routes/sms_status.py), which has refused the
        number first; a report sent twice sends the message again once."""
        self._messenger.resend(bounced)

    def _recorded(self, change: AppointmentStatusChange) -> bool:
        appointment = self._book.find(change.appointment_id)
        return appointment is not None and appointment.status != AppointmentStatus.BOOKED
