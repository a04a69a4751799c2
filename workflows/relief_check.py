"""The relief check (criterion 4): a child workflow that owns one block's timed pain diary.

It prompts the patient at the policy's times after the block, nudges once for a missed prompt, tells the
pathway when nothing at all has arrived, and ends with the evaluation: early once the verdict is positive
(final: see `_settled`) or the return check is answered, otherwise at the end of the window. The diary is
every report recorded before the +24 h return check; a report recorded at or after it answers the return
check, is kept apart (`returned_at`, `return_check_pain`) and never changes the verdict. Pain reports are
Updates on this workflow, so the diary is kept here and only here; the pathway receives it with the result.
"""

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.answers import ReportAccepted
    from domain.diary_catch_up import (
        DiaryEvent,
        DiaryStep,
        catch_up_by_time,
        diary_events,
        hold_back,
    )
    from domain.inputs import ProgressEvent, ReliefCheckInput, ReliefOutcome, ReliefProgress
    from domain.refusals import Refusal
    from domain.relief import (
        DiaryEntry,
        ReliefEvaluation,
        diary_schedule,
        diary_window_end,
        evaluate_relief,
        in_minutes,
        return_check_at,
    )
    from domain.reminders import local_text
    from domain.results import PainReport
    from domain.stages import AttentionReason, ReliefResult
    from domain.view import ReliefCheckView, ReportedPain, SentPrompt, Versioned
    from workflows.view_version import VIEW_CODE_VERSION

from workflows.messenger import Messenger
from workflows.refusal import CLOCK_SKEW, refuse

# Checks that started before these rules replay without them: a late prompt's own nudge, and a prompt after
# the diary closed, were sent then (see domain.diary_catch_up.hold_back).
HOLD_BACK_LATE_MESSAGES = "diary-hold-back-late-messages"


@workflow.defn(name="ReliefCheck")
class ReliefCheckWorkflow:
    @workflow.init
    def __init__(self, check: ReliefCheckInput) -> None:
        self._check = check
        self._reports: list[ReportedPain] = []
        self._answers: dict[datetime, ReportAccepted] = {}  # by recorded instant: a report sent again
        self._last_arrival: datetime | None = None
        self._open_prompt = 0
        self._open_prompt_at: datetime | None = None
        self._prompts: list[SentPrompt] = []
        self._silence_told = False
        self._evaluation: ReliefEvaluation | None = None
        self._signals: list[asyncio.Task[None]] = []
        self._messenger = Messenger(check.pathway_id, check.patient_ref, self._message_trouble)

    @workflow.run
    async def run(self, check: ReliefCheckInput) -> ReliefOutcome:
        policy = check.policy
        schedule = diary_schedule(check.performed_at, policy)
        started = workflow.now()
        pending = diary_events(check.performed_at, policy)
        while not await self._settled_before(pending[0].at) and pending[0].step != DiaryStep.END:
            now = workflow.now()
            due = [e for e in pending if e.at <= now and e.step != DiaryStep.END] or pending[:1]
            pending = pending[len(due) :]
            closed = any(e.step == DiaryStep.END and e.at <= now for e in pending)
            for event in self._catch_up(due, now, started, closed):
                self._take(event, schedule)
        self._evaluation = self._evaluate()
        returned = self._return_check_answer()
        workflow.set_current_details(
            f"Relief check finished: **{self._evaluation.result.value}** ({self._evaluation.reason})"
        )
        # The verdict does not wait on delivery: a prompt still retrying is left behind when the check
        # completes (cancelling it could race its completion within the same workflow task).
        await asyncio.gather(*self._signals, return_exceptions=True)  # a pathway already closed
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ReliefOutcome(
            result=self._evaluation.result,
            peak_relief_pct=self._evaluation.peak_relief_pct,
            reason=self._evaluation.reason,
            reports=self._diary(),
            onset_minutes=in_minutes(self._evaluation.onset),
            relief_duration_minutes=in_minutes(self._evaluation.run_duration),
            returned_at=returned.at if returned else None,
            return_check_pain=returned.pain if returned else None,
            prompts_sent=self._prompts,
        )

    @workflow.update(description="Add the patient's pain (0-10) to the diary, at its recorded time.")
    def record_pain_report(self, report: PainReport) -> ReportAccepted:
        """Adds a pain report; it counts at `recorded_at` (default: now), whatever order reports arrive in.

        A report at an instant the diary already holds, with the same score, is that report sent again:
        nothing is stored and the first answer is given again. Another score at that instant is refused."""
        at = report.recorded_at or workflow.now()
        self._check_open()  # again here: reports that passed their validators in one task meet here
        self._check_same_instant(at, report.pain)
        first = self._answers.get(at)
        if first is not None:
            return first
        self._reports.append(ReportedPain(at=at, pain=report.pain))
        self._last_arrival = workflow.now()
        if len(self._reports) == 1 and self._silence_told:  # staff were asked to call: they need not
            self._tell_pathway(ReliefProgress(event=ProgressEvent.FIRST_REPORT))
        answer = ReportAccepted(reports=len(self._reports))
        self._answers[at] = answer
        return answer

    @record_pain_report.validator
    def _check_pain_report(self, report: PainReport) -> None:
        self._check_open()
        if report.recorded_at is not None:
            if report.recorded_at > workflow.now() + CLOCK_SKEW:
                raise refuse(Refusal.INVALID_STEP, "recorded_at is in the future")
            if report.recorded_at < self._check.performed_at:
                raise refuse(Refusal.INVALID_STEP, "recorded_at is before the block was performed")
        self._check_same_instant(report.recorded_at or workflow.now(), report.pain)

    def _check_open(self) -> None:
        if self._evaluation is not None:
            raise refuse(Refusal.WRONG_STAGE, "the relief check has ended")

    def _check_same_instant(self, at: datetime, pain: int) -> None:
        """The diary holds one score per instant: a different one at the same instant is a conflict."""
        held = next((r for r in self._reports if r.at == at), None)
        if held is not None and held.pain != pain:
            raise refuse(Refusal.CONFLICTING_REPORT, "another pain score is already recorded at that time")

    @workflow.query(description="The diary, with the version of the code that read it (the API's copy).")
    def versioned_diary(self) -> Versioned[ReliefCheckView]:
        return Versioned[ReliefCheckView](version=VIEW_CODE_VERSION, value=self.diary())

    @workflow.query(description="The diary so far: the block, every report in time order, and the result.")
    def diary(self) -> ReliefCheckView:
        """The relief check as the pathway view shows it while the check runs."""
        check, evaluation = self._check, self._evaluation
        returned = self._return_check_answer()
        return ReliefCheckView(
            block_number=check.block_number,
            anesthetic=check.anesthetic,
            baseline_pain=check.baseline_pain,
            performed_at=check.performed_at,
            reports=self._diary(),
            result=evaluation.result if evaluation else None,
            peak_relief_pct=evaluation.peak_relief_pct if evaluation else None,
            onset_minutes=in_minutes(evaluation.onset) if evaluation else None,
            relief_duration_minutes=in_minutes(evaluation.run_duration) if evaluation else None,
            relief_lasted_minutes=in_minutes(evaluation.relief_lasted) if evaluation else None,
            returned_at=returned.at if returned else None,
            return_check_pain=returned.pain if returned else None,
            reason=evaluation.reason if evaluation else None,
            prompts_sent=self._prompts,
        )

    def _diary(self) -> list[ReportedPain]:
        """The reports recorded before the return check, in time order."""
        moment = return_check_at(self._check.performed_at, self._check.policy)
        return sorted((r for r in self._reports if r.at < moment), key=lambda r: r.at)

    def _return_check_answer(self) -> ReportedPain | None:
        """The first report recorded at or after the return check's moment: the return check's answer."""
        moment = return_check_at(self._check.performed_at, self._check.policy)
        answers = sorted((r for r in self._reports if r.at >= moment), key=lambda r: r.at)
        return answers[0] if answers else None

    def _evaluate(self) -> ReliefEvaluation:
        entries = [
            DiaryEntry(after_block=r.at - self._check.performed_at, pain=r.pain) for r in self._diary()
        ]
        return evaluate_relief(self._check.baseline_pain, entries, self._check.policy)

    async def _settled_before(self, at: datetime) -> bool:
        """Waits until `at`; True if the result was settled first."""
        if self._settled():
            return True
        remaining = at - workflow.now()
        if remaining <= timedelta(0):
            return False
        try:
            await workflow.wait_condition(self._settled, timeout=remaining, timeout_summary="next diary step")
        except TimeoutError:
            return False
        return True

    def _settled(self) -> bool:
        """True once the verdict can no longer change, or the diary is over.

        Positive is final: it needs a report after the run with relief under `returned_below`, and a report
        recorded from now on (none is accepted in the future) lies after that one, so it can neither undo
        the run nor the return. Negative, prolonged and indeterminate can still change while the diary runs.
        An answered return check (a report recorded at or after its moment) is the diary's last word; a
        diary report read back later, recorded before that moment, is not."""
        if self._return_check_answer() is not None:
            return True
        return self._evaluate().result == ReliefResult.POSITIVE

    def _catch_up(
        self, due: list[DiaryEvent], now: datetime, started: datetime, closed: bool
    ) -> tuple[DiaryEvent, ...]:
        """The due steps to take now (domain.diary_catch_up): a message that missed its moment is dropped,
        the patient gets the current prompt once, without its nudge, and no prompt after the diary closed.
        The pathway's timeline is told what was dropped."""
        by_time = catch_up_by_time(
            due, now=now, started=started, missed_after=self._check.policy.missed_after, diary_closed=closed
        )
        held = hold_back(by_time)
        chosen = held if held == by_time or workflow.patched(HOLD_BACK_LATE_MESSAGES) else by_time
        detail = chosen.detail(started)
        if detail is not None:
            self._tell_pathway(ReliefProgress(event=ProgressEvent.MESSAGES_MISSED, detail=detail))
        return chosen.take

    def _take(self, event: DiaryEvent, schedule: list[datetime]) -> None:
        if event.step == DiaryStep.PROMPT:
            self._prompt(event.number, schedule)
        elif event.step == DiaryStep.NUDGE:
            self._nudge(event.number, schedule)
        elif not self._reports:
            self._silence_told = True
            self._tell_pathway(ReliefProgress(event=ProgressEvent.NO_REPORTS))

    def _prompt(self, number: int, schedule: list[datetime]) -> None:
        check = self._check
        is_return_check = number == len(schedule)
        answer_due = (
            schedule[number] if number < len(schedule) else diary_window_end(check.performed_at, check.policy)
        )
        self._open_prompt, self._open_prompt_at = number, workflow.now()
        due = local_text(answer_due, check.clinic_timezone)
        workflow.set_current_details(f"Diary prompt {number} of {len(schedule)} sent; answer due {due}")
        template = "return_check" if is_return_check else "diary_prompt"
        self._messenger.to_patient(template, f"diary:{check.block_number}:{number}")
        self._prompts.append(SentPrompt(number=number, at=workflow.now(), answer_due_at=answer_due))

    def _nudge(self, number: int, schedule: list[datetime]) -> None:
        """Nudges for the open prompt unless it was answered, or sent late (it missed its moment and went out
        less than `nudge_after` before this nudge's moment: a nudge now would only repeat it)."""
        sent_at = self._open_prompt_at
        if self._open_prompt != number or sent_at is None:
            return
        answered = self._last_arrival is not None and self._last_arrival >= sent_at
        sent_late = sent_at - schedule[number - 1] > self._check.policy.missed_after
        if sent_late and not answered and workflow.patched(HOLD_BACK_LATE_MESSAGES):
            return
        if not answered:
            self._messenger.to_patient("diary_nudge", f"diary-nudge:{self._check.block_number}:{number}")

    def _message_trouble(self, reason: AttentionReason) -> None:
        event = (
            ProgressEvent.PATIENT_UNREACHABLE
            if reason == AttentionReason.PATIENT_UNREACHABLE
            else ProgressEvent.MESSAGE_NOT_DELIVERED
        )
        self._tell_pathway(ReliefProgress(event=event))

    def _tell_pathway(self, progress: ReliefProgress) -> None:
        """Signals the pathway in the background, in order; the run waits for them before it returns."""
        parent = workflow.info().parent
        if parent is None:
            return
        from workflows.pathway import PatientPathwayWorkflow  # the pathway imports this module

        # declared: mypy cannot always infer it inside the pathway's import cycle (workflows/handles.py)
        handle: workflow.ExternalWorkflowHandle[PatientPathwayWorkflow] = (
            workflow.get_external_workflow_handle_for(PatientPathwayWorkflow.run, parent.workflow_id)
        )
        self._signals.append(
            asyncio.create_task(handle.signal(PatientPathwayWorkflow.relief_progress, progress))
        )
