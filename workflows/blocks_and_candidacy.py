"""The blocks and the candidacy decision: each block starts a relief check child workflow (the pain diary),
and its verdict goes to the clinician, who approves, declines, or books another block.

Mixed into PatientPathwayWorkflow (workflows/pathway.py), which creates the collaborators named here.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.appointments import AppointmentKind
    from domain.config import PathwayConfig
    from domain.identifiers import relief_check_id
    from domain.inputs import PathwayInput, ReliefCheckInput, ReliefOutcome
    from domain.levels import LevelsOnRecord
    from domain.results import Anesthesia, BlockRecord, CandidacyDecision
    from domain.stages import Actor, AttentionReason, Outcome, ReliefResult, Stage, StepName
    from domain.view import Criteria, ReliefCheckView

from workflows.appointment_book import AppointmentBook
from workflows.messenger import Messenger
from workflows.pathway_ended import PathwayEnded
from workflows.relief_check import ReliefCheckWorkflow
from workflows.status_board import StatusBoard
from workflows.waiting import Waiter


class BlocksAndCandidacy:
    _id: str
    _in: PathwayInput
    _config: PathwayConfig
    _board: StatusBoard
    _book: AppointmentBook
    _waiter: Waiter
    _messenger: Messenger
    _criteria: Criteria
    _levels: LevelsOnRecord
    _relief: ReliefCheckView
    _relief_child: workflow.ChildWorkflowHandle[ReliefCheckWorkflow, ReliefOutcome] | None
    _anesthesia: Anesthesia | None

    async def _blocks_and_candidacy(self) -> None:
        """Each block's relief check goes to the clinician's candidacy decision, whatever its verdict: they
        approve, decline, or book another block (back to `block`)."""
        block_number = 1
        while True:
            self._enter(Stage.BLOCK)
            await self._book.book(AppointmentKind.BLOCK)
            record = await self._waiter.step(StepName.BLOCK, BlockRecord, self._config.block_record_due)
            outcome = await self._relief_check(block_number, record)
            if outcome.result == ReliefResult.POSITIVE:
                self._criteria.block_positive = True
                self._levels.blocked_positive |= set(record.levels)
            elif outcome.result == ReliefResult.NEGATIVE:
                self._criteria.block_positive = False
            else:
                self._criteria.block_positive = None
            decision = await self._candidacy(block_number, outcome)
            if not decision.repeat_block:
                return
            self._board.event("repeat_block_chosen", f"block {block_number + 1}, by {decision.decided_by}")
            block_number += 1

    async def _relief_check(self, block_number: int, record: BlockRecord) -> ReliefOutcome:
        performed_at = record.performed_at or workflow.now()
        self._relief = ReliefCheckView(
            block_number=block_number,
            anesthetic=record.anesthetic,
            baseline_pain=record.baseline_pain,
            performed_at=performed_at,
        )
        baseline, by = record.baseline_pain, record.performed_by
        detail = f"block {block_number}, {record.anesthetic}, baseline {baseline}, by {by}"
        self._board.event("block_performed", detail)
        self._enter(Stage.RELIEF_CHECK)
        first_prompt = performed_at + self._config.relief.prompt_offsets[0]
        self._board.set_next_action(Actor.PATIENT, "pain_report", first_prompt)
        self._relief_child = await workflow.start_child_workflow(
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
            id=relief_check_id(self._id, block_number),
            static_summary=f"Relief check of medial branch block {block_number}",
        )
        await self._waiter.wait(self._relief_child.done, None, "relief check")
        outcome = await self._relief_child
        self._relief_child = None
        self._relief = self._relief.model_copy(
            update={
                "reports": outcome.reports,
                "result": outcome.result,
                "peak_relief_pct": outcome.peak_relief_pct,
                "onset_minutes": outcome.onset_minutes,
                "relief_duration_minutes": outcome.relief_duration_minutes,
                "returned_at": outcome.returned_at,
                "return_check_pain": outcome.return_check_pain,
                "reason": outcome.reason,
            }
        )
        self._board.clear_attention(AttentionReason.NO_DIARY_REPORTS)
        self._board.set_block_result(outcome.result)
        self._board.event("relief_evaluated", f"{outcome.result.value}: {outcome.reason}")
        return outcome

    async def _candidacy(self, block_number: int, relief: ReliefOutcome) -> CandidacyDecision:
        """The clinician decides with the rule's verdict and the criteria shown. Declining after a verdict
        that is not positive closes not_candidate; after a positive one, declined."""
        self._enter(Stage.CANDIDACY)
        criteria = ", ".join(f"{name}: {value}" for name, value in self._criteria.model_dump().items())
        self._board.event("candidacy_due", f"block {block_number} {relief.result.value}; {criteria}")
        due = workflow.now() + self._config.candidacy_decision_due
        key = "decision-due:candidacy" if block_number == 1 else f"decision-due:candidacy-{block_number}"
        self._messenger.to_staff(
            "clinician_decision_due",
            key,
            {"pathway_id": self._id, "action": "candidacy decision", "when": self._board.local(due)},
        )
        decision = await self._waiter.step(
            StepName.CANDIDACY_DECISION, CandidacyDecision, self._config.candidacy_decision_due
        )
        if decision.repeat_block:
            return decision
        if not decision.approved:
            self._board.event("candidacy_declined", f"by {decision.decided_by}")
            if relief.result != ReliefResult.POSITIVE:
                reason = f"medial branch block {relief.result.value}; clinician declined DVR"
                raise PathwayEnded(Outcome.NOT_CANDIDATE, decision.reason or reason)
            raise PathwayEnded(Outcome.DECLINED, decision.reason or "clinician declined DVR")
        self._anesthesia = decision.anesthesia
        overridden = ", against the block's verdict" if decision.override_reason else ""
        detail = f"anesthesia: {decision.anesthesia}{overridden}, by {decision.decided_by}"
        self._board.event("candidacy_approved", detail)
        return decision

    def _enter(self, stage: Stage) -> None:
        self._book.stage_left()
        self._board.enter(stage)
