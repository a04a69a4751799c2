"""The outcome check-ins stage: the pathway starts their child workflow (workflows/outcome_check_ins.py),
shows staff what it is told (a call needed, a check-in closed, red flags), and keeps the answers at its end.

Mixed into PatientPathwayWorkflow through workflows/after_the_procedure.py.
"""

from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from domain.check_ins import CheckInStatus
    from domain.config import PathwayConfig
    from domain.identifiers import outcome_check_ins_id
    from domain.inputs import OutcomeEvent, OutcomeProgress, OutcomesInput, OutcomesResult, PathwayInput
    from domain.quiet_hours import next_allowed
    from domain.reminders import outcome_schedule
    from domain.results import RedFlag
    from domain.stages import Actor, AttentionReason, Stage
    from domain.view import OutcomeCheckInView

from workflows.descriptions import outcome_check_ins_details
from workflows.outcome_check_ins import OutcomeCheckInsWorkflow
from workflows.status_board import StatusBoard
from workflows.waiting import Waiter, Woke


class OutcomeStage:
    _id: str
    _in: PathwayInput
    _config: PathwayConfig
    _board: StatusBoard
    _waiter: Waiter
    _outcomes: list[OutcomeCheckInView]
    _outcomes_child: workflow.ChildWorkflowHandle[OutcomeCheckInsWorkflow, OutcomesResult] | None

    def _enter(self, stage: Stage) -> None:
        raise NotImplementedError  # workflows/blocks_and_candidacy.py

    def _raise_red_flags(self, flags: list[RedFlag], advice_key: str) -> None:
        raise NotImplementedError  # workflows/after_the_procedure.py

    async def _outcome_check_ins(self, done_at: datetime) -> None:
        self._enter(Stage.OUTCOMES)
        schedule = outcome_schedule(done_at, workflow.now(), self._in.patient_timezone, self._config)
        if not schedule:
            return
        self._outcomes = [OutcomeCheckInView(check_in=name, due_at=at) for name, at in schedule]
        # A first check-in due, or already overdue, in quiet hours is sent when they end
        # (workflows/check_in_chain.py): its answer is due a window after that.
        first_at = next_allowed(
            max(schedule[0][1], workflow.now()), self._in.patient_timezone, self._config.quiet_hours
        )
        first_due = first_at + self._config.outcome_check_in.answer_window
        self._board.set_next_action(Actor.PATIENT, "outcome_check_in", first_due)
        self._outcomes_child = await workflow.start_child_workflow(
            OutcomeCheckInsWorkflow.run,
            OutcomesInput(
                pathway_id=self._id,
                patient_ref=self._in.patient_ref,
                patient_timezone=self._in.patient_timezone,
                schedule=schedule,
                times=self._config.outcome_check_in,
                quiet_hours=self._config.quiet_hours,
            ),
            id=outcome_check_ins_id(self._id),
            static_summary="Outcome check-ins to 12 months",
            static_details=outcome_check_ins_details(self._id, self._config),
        )
        while await self._waiter.wait(self._outcomes_child.done, None, "outcome check-ins") != Woke.READY:
            pass  # an appointment change was applied: keep waiting
        await self._take_outcomes()

    async def _take_outcomes(self) -> None:
        assert self._outcomes_child is not None
        try:
            result = await self._outcomes_child
        except ChildWorkflowError:  # ended from outside (an operator terminated it): what is not in, stops
            self._board.event("outcome_check_ins_ended", "the outcome check-ins ended before their last")
            self._outcomes = [
                o.model_copy(update={"status": CheckInStatus.STOPPED})
                if o.status in (CheckInStatus.SCHEDULED, CheckInStatus.OPEN)
                else o
                for o in self._outcomes
            ]
        else:
            self._outcomes = result.check_ins
        self._outcomes_child = None
        self._board.clear_attention(AttentionReason.CHECK_IN_UNANSWERED)
        self._board.set_next_action(Actor.SYSTEM, "complete", None)

    def _on_outcome_progress(self, progress: OutcomeProgress) -> None:
        """What the outcome check-ins tell the pathway: it shows staff what they must act on."""
        if self._board.stage != Stage.OUTCOMES or not self._board.active:
            return
        name, due = progress.check_in, progress.due_at
        if progress.event == OutcomeEvent.CALL_STAFF:
            self._board.raise_attention(AttentionReason.CHECK_IN_UNANSWERED, staff_told=True)
            self._board.set_next_action(Actor.STAFF, "call_patient", due)
        elif progress.event == OutcomeEvent.CLOSED:
            assert progress.status is not None
            self._outcome_status(name, progress.status)
            self._board.clear_attention(AttentionReason.CHECK_IN_UNANSWERED)
            self._board.event("outcome_check_in_closed", f"{name}: {progress.status.value}")
            if due is None:
                self._board.set_next_action(Actor.SYSTEM, "complete", None)
            else:
                self._board.set_next_action(Actor.PATIENT, "outcome_check_in", due)
            if progress.red_flags:
                self._raise_red_flags(progress.red_flags, f"red-flag-advice:{name}")
        elif progress.event == OutcomeEvent.PATIENT_UNREACHABLE:
            self._board.raise_attention(AttentionReason.PATIENT_UNREACHABLE)
        else:
            self._board.raise_attention(AttentionReason.MESSAGE_NOT_DELIVERED)

    def _outcome_status(self, name: str | None, status: CheckInStatus) -> None:
        self._outcomes = [
            o.model_copy(update={"status": status}) if o.check_in == name else o for o in self._outcomes
        ]
