"""The blocks and the candidacy decision: each block starts a relief check child workflow (the pain diary),
and its verdict goes to the clinician, who approves, declines, or books another block.

With comparative blocks (clinic policy, domain/comparative_blocks.py) the first two blocks are a pair: a
positive or prolonged first block (lidocaine) goes on, without a decision, to the second (bupivacaine) on
another day, and the clinician decides after it with the pair's concordance shown. A first block without
relief goes to the clinician as without the mode. A repeat block the clinician books is a single block, with
any anesthetic; `block_number` keeps counting across all of them.

Mixed into PatientPathwayWorkflow (workflows/pathway.py), which creates the collaborators named here.
"""

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.appointments import AppointmentKind
    from domain.comparative_blocks import (
        PAIR_ANESTHETICS,
        Concordance,
        concordance,
        goes_on_to_second_block,
        relief_lasted,
        second_block_not_before,
    )
    from domain.config import PathwayConfig
    from domain.identifiers import relief_check_id
    from domain.inputs import PathwayInput, ReliefCheckInput, ReliefOutcome
    from domain.levels import LevelsOnRecord
    from domain.relief import in_minutes
    from domain.results import Anesthesia, Anesthetic, BlockRecord, CandidacyDecision
    from domain.stages import Actor, AttentionReason, Outcome, ReliefResult, Stage, StepName
    from domain.view import Criteria, ReliefCheckView

from workflows.appointment_book import AppointmentBook
from workflows.descriptions import relief_check_details
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
    _blocks: list[ReliefCheckView]
    _pair_anesthetic: Anesthetic | None
    _concordance: Concordance | None
    _repeat_blocks: int
    _relief_child: workflow.ChildWorkflowHandle[ReliefCheckWorkflow, ReliefOutcome] | None
    _anesthesia: Anesthesia | None

    async def _blocks_and_candidacy(self) -> None:
        """Each block's relief check goes to the clinician's candidacy decision, whatever its verdict: they
        approve, decline, or book another block (back to `block`). With comparative blocks, a positive or
        prolonged first block goes on to the pair's second block first."""
        block_number = 1
        in_pair = self._config.comparative_blocks
        not_before: datetime | None = None
        while True:
            # Set before the stage opens: the block's validator reads it (a step may arrive while booking).
            self._pair_anesthetic = PAIR_ANESTHETICS[block_number - 1] if in_pair else None
            self._enter(Stage.BLOCK)
            await self._book.book(AppointmentKind.BLOCK, not_before)
            record = await self._waiter.step(StepName.BLOCK, BlockRecord, self._config.block_record_due)
            outcome = await self._relief_check(block_number, record)
            if outcome.result == ReliefResult.POSITIVE:
                self._criteria.block_positive = True
                self._levels.blocked_positive |= set(record.levels)
            elif outcome.result == ReliefResult.NEGATIVE:
                self._criteria.block_positive = False
            else:
                self._criteria.block_positive = None
            if in_pair and block_number == 1 and goes_on_to_second_block(outcome.result):
                not_before = self._second_block_not_before(record)
                self._board.event(
                    "comparative_second_block", f"block 1 {outcome.result.value}: block 2 with bupivacaine"
                )
                block_number = 2
                continue
            if in_pair and block_number == 2:
                self._concordance = concordance(self._blocks[0], self._blocks[1], self._config.relief)
            in_pair, not_before = False, None
            decision = await self._candidacy(block_number, outcome)
            if not decision.repeat_block:
                return
            self._board.event("repeat_block_chosen", f"block {block_number + 1}, by {decision.decided_by}")
            self._repeat_blocks += 1
            block_number += 1

    def _second_block_not_before(self, first: BlockRecord) -> datetime:
        """The pair's second block is booked on a later local day than the first. The first's day is the
        later of its appointment and when it was performed: they differ in the demo profile, where a step
        never waits for its slot, so the calendar still shows the two blocks on different days while the
        demo runs at its own pace (nothing waits for the second block's slot either)."""
        appointment = self._book.current(AppointmentKind.BLOCK)
        performed_at = first.performed_at or workflow.now()
        day = performed_at if appointment is None else max(performed_at, appointment.starts_at)
        return second_block_not_before(day, self._in.clinic_timezone)

    async def _relief_check(self, block_number: int, record: BlockRecord) -> ReliefOutcome:
        performed_at = record.performed_at or workflow.now()
        self._relief = ReliefCheckView(
            block_number=block_number,
            anesthetic=record.anesthetic,
            baseline_pain=record.baseline_pain,
            performed_at=performed_at,
        )
        self._blocks.append(self._relief)
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
            static_details=relief_check_details(self._id, block_number, self._config.relief),
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
                "prompts_sent": outcome.prompts_sent,
            }
        )
        lasted = in_minutes(relief_lasted(self._relief, self._config.relief))
        self._relief = self._relief.model_copy(update={"relief_lasted_minutes": lasted})
        self._blocks[-1] = self._relief
        self._board.clear_attention(AttentionReason.NO_DIARY_REPORTS)
        self._board.set_block_result(outcome.result)
        self._board.event("relief_evaluated", f"{outcome.result.value}: {outcome.reason}")
        return outcome

    async def _candidacy(self, block_number: int, relief: ReliefOutcome) -> CandidacyDecision:
        """The clinician decides with the rule's verdict and the criteria shown. Declining after a verdict
        that is not positive closes not_candidate; after a positive one, declined."""
        self._enter(Stage.CANDIDACY)
        criteria = ", ".join(f"{name}: {value}" for name, value in self._criteria.model_dump().items())
        pair = "" if self._concordance is None else f"; comparative blocks {self._concordance}"
        self._board.event("candidacy_due", f"block {block_number} {relief.result.value}{pair}; {criteria}")
        due = workflow.now() + self._config.candidacy_decision_due
        key = "decision-due:candidacy" if block_number == 1 else f"decision-due:candidacy-{block_number}"
        action = "candidacy decision"
        if self._concordance is not None:
            action += f" (comparative blocks {self._concordance.replace('_', ' ')})"
        self._messenger.to_staff(
            "clinician_decision_due",
            key,
            {"pathway_id": self._id, "action": action, "when": self._board.local(due)},
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
