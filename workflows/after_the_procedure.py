"""After the DVR: the next-day follow-up, then the outcome check-ins to 12 months, then completion once any
red flags have been handled. A check-in whose moment comes in the patient's quiet hours (the procedure was
recorded late, the worker was down) is sent when they end, and its answer window starts then.

The follow-up is waited on here; the outcome check-ins run in their own child workflow
(workflows/outcome_check_ins.py), which tells the pathway what staff must see (workflows/outcome_stage.py).
A withdrawal from here on stops the check-ins still open: the procedure was done, so the pathway still
completes `dvr_completed`.

Mixed into PatientPathwayWorkflow (workflows/pathway.py), which creates the collaborators named here.
"""

import contextlib
from collections.abc import Callable
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from domain.check_ins import CheckInStatus
    from domain.config import PathwayConfig
    from domain.inputs import OutcomesResult, PathwayInput
    from domain.reminders import follow_up_time, local_text, outcome_schedule
    from domain.results import FollowUpAnswer, ProcedureRecord, RedFlag, StaffCall
    from domain.stages import Actor, AttentionReason, Outcome, Stage, StepName
    from domain.view import FollowUpView, OutcomeCheckInView, StaffCallView

from workflows.check_in_chain import CheckInChain, wait_out_quiet_hours
from workflows.messenger import Messenger
from workflows.outcome_check_ins import OutcomeCheckInsWorkflow
from workflows.outcome_stage import OutcomeStage
from workflows.pathway_ended import PathwayEnded
from workflows.status_board import StatusBoard
from workflows.step_inbox import StepInbox
from workflows.waiting import Waiter, Woke


class AfterTheProcedure(OutcomeStage):
    _id: str
    _in: PathwayInput
    _config: PathwayConfig
    _board: StatusBoard
    _inbox: StepInbox
    _waiter: Waiter
    _messenger: Messenger
    _follow_up: FollowUpView
    _outcomes: list[OutcomeCheckInView]
    _outcomes_child: workflow.ChildWorkflowHandle[OutcomeCheckInsWorkflow, OutcomesResult] | None
    _red_flags: list[RedFlag]
    _check_ins_stopped: bool
    _done_at: datetime

    def _enter(self, stage: Stage) -> None:
        raise NotImplementedError  # workflows/blocks_and_candidacy.py

    def _tell_staff_of(self, reason: AttentionReason) -> None:
        raise NotImplementedError  # workflows/pathway.py

    async def _after_the_procedure(self, procedure: ProcedureRecord) -> None:
        self._done_at = procedure.completed_at or workflow.now()
        try:
            await self._follow_up_next_day(self._done_at)
            await self._outcome_check_ins(self._done_at)
        except PathwayEnded as ended:
            await self._stop_check_ins(ended)
        while True:  # a withdrawal while red flags wait for staff stops nothing more: keep waiting
            try:
                await self._until_red_flags_handled()
                return
            except PathwayEnded as ended:
                await self._stop_check_ins(ended)

    def _completion_reason(self) -> str:
        """How the follow-up went, in a line: a pathway whose check-ins went unanswered does not read as
        followed up."""
        check_ins = [self._follow_up.status, *(o.status for o in self._outcomes)]
        answered = sum(status == CheckInStatus.ANSWERED for status in check_ins)
        tally = f"{answered} of {len(check_ins)} check-ins answered"
        if self._check_ins_stopped:
            return f"DVR performed; the patient withdrew from the check-ins ({tally})"
        return f"DVR performed; {tally}"

    # ---- the next-day follow-up ------------------------------------------------------------------------

    async def _follow_up_next_day(self, done_at: datetime) -> None:
        self._enter(Stage.FOLLOW_UP)
        check_in_at = follow_up_time(done_at, self._in.patient_timezone, self._config)
        times = self._config.follow_up_check_in
        self._follow_up = FollowUpView(status=CheckInStatus.SCHEDULED)
        self._board.set_next_action(
            Actor.PATIENT, StepName.FOLLOW_UP.value, check_in_at + times.answer_window
        )

        def arrived() -> bool:
            return self._inbox.has(StepName.FOLLOW_UP) or self._inbox.has(StepName.STAFF_CALL)

        def held(until: datetime) -> None:
            self._board.set_next_action(Actor.PATIENT, StepName.FOLLOW_UP.value, until + times.answer_window)
            when = local_text(until, self._in.patient_timezone)
            self._board.event("follow_up_check_in_held", f"in the patient's quiet hours: sent {when}")

        if not (
            await self._wait_until(arrived, check_in_at, "next-day check-in")
            or await wait_out_quiet_hours(
                self._wait_until, arrived, self._in.patient_timezone, self._config.quiet_hours, held=held
            )
        ):
            self._messenger.to_patient("follow_up_checkin", "follow-up")
            self._board.event("follow_up_check_in_sent")
        self._follow_up = self._follow_up.model_copy(update={"status": CheckInStatus.OPEN})
        chain = CheckInChain(
            workflow.now(),  # once sent: a check-in held in quiet hours has its whole window
            times,
            self._wait_until,
            remind=self._remind_follow_up,
            call_staff=self._call_for_follow_up,
        )
        self._board.set_next_action(Actor.PATIENT, StepName.FOLLOW_UP.value, chain.answer_due)
        answer = await self._follow_up_answer(chain, arrived)
        self._messenger.drop_held("follow-up-reminder")  # still waiting out quiet hours: no longer so
        self._board.clear_attention(AttentionReason.FOLLOW_UP_OVERDUE)
        if answer is None:
            self._follow_up = self._follow_up.model_copy(update={"status": CheckInStatus.NOT_OBTAINED})
            self._board.event("follow_up_not_obtained")
            return
        self._follow_up = self._follow_up.model_copy(
            update={
                "status": CheckInStatus.ANSWERED,
                "pain": answer.pain,
                "returned_to_work": answer.returned_to_work,
                "red_flags": list(answer.red_flags),
            }
        )
        flags = ", ".join(answer.red_flags) or "none"
        self._board.event("follow_up_answered", f"pain {answer.pain}, red flags: {flags}")
        if answer.red_flags:
            self._raise_red_flags(answer.red_flags, "red-flag-advice")

    async def _follow_up_answer(
        self, chain: CheckInChain, arrived: Callable[[], bool]
    ) -> FollowUpAnswer | None:
        """The patient's answer, or the answers staff obtained on a call; None when nothing was obtained."""
        while await chain.arrival(arrived) or arrived():  # (a step taken as the deadline passed counts)
            call = (
                self._inbox.take(StepName.STAFF_CALL, StaffCall)
                if self._inbox.has(StepName.STAFF_CALL)
                else None
            )
            if call is not None:
                self._record_call(call)
            if self._inbox.has(StepName.FOLLOW_UP):
                return self._inbox.take(StepName.FOLLOW_UP, FollowUpAnswer)  # the patient's own answer counts
            assert call is not None
            if not call.reached:
                continue  # staff may call again until the final deadline
            if call.answers is None:
                return None
            given = call.answers
            return FollowUpAnswer(
                pain=given.pain, returned_to_work=given.returned_to_work, red_flags=given.red_flags
            )
        return None

    def _record_call(self, call: StaffCall) -> None:
        calls = [*self._follow_up.staff_calls, StaffCallView.of(call, workflow.now())]
        self._follow_up = self._follow_up.model_copy(update={"staff_calls": calls})
        reached = "reached" if call.reached else "not reached"
        self._board.event("staff_call", f"follow-up: {reached}, by {call.called_by}")

    def _remind_follow_up(self) -> None:
        self._messenger.to_patient("check_in_reminder", "follow-up-reminder", {"interval": "the day after"})
        self._board.event("follow_up_reminder_sent")

    def _call_for_follow_up(self, deadline: datetime) -> None:
        self._board.raise_attention(AttentionReason.FOLLOW_UP_OVERDUE)
        self._board.set_next_action(Actor.STAFF, "call_patient", deadline)

    # ---- withdrawal and red flags ----------------------------------------------------------------------

    async def _stop_check_ins(self, ended: PathwayEnded) -> None:
        """A withdrawal after the procedure: the check-ins still to come or open are stopped, and what was
        held for them (a reminder waiting out quiet hours) is not sent."""
        if ended.outcome != Outcome.WITHDRAWN:
            raise ended
        self._messenger.drop_held("follow-up-reminder")
        if self._follow_up.status in (CheckInStatus.SCHEDULED, CheckInStatus.OPEN):
            self._follow_up = self._follow_up.model_copy(update={"status": CheckInStatus.STOPPED})
        self._board.clear_attention(AttentionReason.FOLLOW_UP_OVERDUE)
        child = self._outcomes_child
        if child is not None:
            if not child.done():  # it may have completed in this very workflow task
                with contextlib.suppress(FailureError):  # it closed meanwhile: it stops all the same
                    await child.signal(OutcomeCheckInsWorkflow.stop)
            await self._take_outcomes()
        if not self._outcomes:  # withdrawn before the outcomes began: they will not
            schedule = outcome_schedule(
                self._done_at, workflow.now(), self._in.patient_timezone, self._config
            )
            self._outcomes = [
                OutcomeCheckInView(check_in=name, due_at=at, status=CheckInStatus.STOPPED)
                for name, at in schedule
            ]
        self._outcomes = [
            o.model_copy(update={"status": CheckInStatus.STOPPED})
            if o.status == CheckInStatus.SCHEDULED
            else o
            for o in self._outcomes
        ]
        if not self._check_ins_stopped:
            self._board.event("check_ins_stopped", "the patient withdrew after the procedure")
        self._check_ins_stopped = True
        self._inbox.withdrawal = None  # honoured: what follows (red flags) must not close the pathway

    def _raise_red_flags(self, flags: list[RedFlag], advice_key: str) -> None:
        """Red flags are urgent: the patient is told at once what to do, staff get an urgent message, and
        the pathway cannot complete until staff record how it was handled (`resolve_attention`)."""
        self._red_flags = list(flags)
        self._messenger.to_patient("red_flag_advice", advice_key)
        if AttentionReason.RED_FLAGS in self._board.attention:
            self._board.event("needs_attention", "new red flags")
            self._tell_staff_of(AttentionReason.RED_FLAGS)  # still open: staff hear of the new ones too
        else:
            self._board.raise_attention(AttentionReason.RED_FLAGS)  # staff hear of it: `_tell_staff_of`

    async def _until_red_flags_handled(self) -> None:
        if AttentionReason.RED_FLAGS not in self._board.attention:
            return
        self._board.set_next_action(Actor.STAFF, "resolve_attention", None)

        def handled() -> bool:
            return AttentionReason.RED_FLAGS not in self._board.attention

        while await self._waiter.wait(handled, None, "red flags handled") != Woke.READY:
            pass  # an appointment change was applied: keep waiting

    async def _wait_until(self, ready: Callable[[], bool], until: datetime, summary: str) -> bool:
        """Waits until `ready()` or `until`, applying appointment changes; a withdrawal ends the wait
        (PathwayEnded)."""
        while True:
            woke = await self._waiter.wait(ready, until - workflow.now(), summary)
            if woke != Woke.REBOOKED:
                return woke == Woke.READY
