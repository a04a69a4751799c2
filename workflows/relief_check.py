"""The relief check (criterion 4): a child workflow that runs one block's timed pain diary.

It prompts the patient at the policy's times after the block, nudges once for a missed prompt, tells the
pathway when nothing at all has arrived, and ends with the evaluation: early once the result is settled
positive or the return check is answered, otherwise at the end of the window.
"""

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.inputs import ReliefCheckInput, ReliefOutcome, ReliefProgress
    from domain.relief import DiaryEntry, diary_schedule, diary_window_end, evaluate_relief
    from domain.reminders import local_text
    from domain.stages import ReliefResult
    from domain.view import ReportedPain

from workflows.messaging import send_message

PROGRESS_SIGNAL = "relief_progress"


@dataclass(frozen=True)
class _Event:
    at: datetime
    kind: str  # "prompt", "nudge", "silence_check", "end"
    number: int = 0


@workflow.defn(name="ReliefCheck")
class ReliefCheckWorkflow:
    @workflow.init
    def __init__(self, check: ReliefCheckInput) -> None:
        self._check = check
        self._entries: list[DiaryEntry] = []
        self._last_arrival: datetime | None = None
        self._open_prompt = 0
        self._open_prompt_at: datetime | None = None
        self._return_check_sent_at: datetime | None = None
        self._sending: list[asyncio.Task[Any]] = []

    @workflow.signal
    def report(self, report: ReportedPain) -> None:
        """A pain report the pathway accepted."""
        self._entries.append(DiaryEntry(after_block=report.at - self._check.performed_at, pain=report.pain))
        self._last_arrival = workflow.now()

    @workflow.run
    async def run(self, check: ReliefCheckInput) -> ReliefOutcome:
        policy = check.policy
        schedule = diary_schedule(check.performed_at, policy)
        events = sorted(
            [_Event(at, "prompt", n) for n, at in enumerate(schedule, start=1)]
            + [_Event(at + policy.nudge_after, "nudge", n) for n, at in enumerate(schedule[:-1], start=1)]
            + [_Event(check.performed_at + policy.silence_alert_after, "silence_check")]
            + [_Event(diary_window_end(check.performed_at, policy), "end")],
            key=lambda e: e.at,
        )
        started = workflow.now()
        for event in events:
            if event.at < started and event.kind != "end":
                continue  # the block was recorded late: its earlier prompts are past
            if await self._settled_before(event.at):
                break
            if event.kind == "end":
                break
            if event.kind == "prompt":
                await self._prompt(event.number, schedule)
            elif event.kind == "nudge":
                await self._nudge(event.number)
            elif not self._entries:
                await self._tell_pathway(ReliefProgress(event="no_reports"))
        await asyncio.gather(*self._sending, return_exceptions=True)
        evaluation = evaluate_relief(check.baseline_pain, self._entries, policy)
        workflow.set_current_details(
            f"Relief check finished: **{evaluation.result.value}** ({evaluation.reason})"
        )
        return ReliefOutcome(
            result=evaluation.result,
            peak_relief_pct=evaluation.peak_relief_pct,
            reason=evaluation.reason,
            entries=sorted(self._entries, key=lambda e: e.after_block),
        )

    async def _settled_before(self, at: datetime) -> bool:
        """Waits until `at`; True if the result was settled first."""
        remaining = at - workflow.now()
        if self._settled():
            return True
        if remaining.total_seconds() <= 0:
            return False
        try:
            await workflow.wait_condition(self._settled, timeout=remaining, timeout_summary="next diary step")
        except TimeoutError:
            return False
        return True

    def _settled(self) -> bool:
        """Positive cannot be undone by later reports; an answered return check is the diary's last word."""
        sent, answered = self._return_check_sent_at, self._last_arrival
        if sent is not None and answered is not None and answered >= sent:
            return True
        evaluation = evaluate_relief(self._check.baseline_pain, self._entries, self._check.policy)
        return evaluation.result == ReliefResult.POSITIVE

    async def _prompt(self, number: int, schedule: list[datetime]) -> None:
        check = self._check
        is_return_check = number == len(schedule)
        answer_due = (
            schedule[number] if number < len(schedule) else diary_window_end(check.performed_at, check.policy)
        )
        self._open_prompt, self._open_prompt_at = number, workflow.now()
        if is_return_check:
            self._return_check_sent_at = workflow.now()
        due = local_text(answer_due, check.clinic_timezone)
        workflow.set_current_details(f"Diary prompt {number} of {len(schedule)} sent; answer due {due}")
        self._send(
            f"diary:{check.block_number}:{number}", "return_check" if is_return_check else "diary_prompt"
        )
        await self._tell_pathway(
            ReliefProgress(event="prompt_sent", prompt_number=number, answer_due_at=answer_due)
        )

    async def _nudge(self, number: int) -> None:
        answered = self._last_arrival is not None and (
            self._open_prompt_at is not None and self._last_arrival >= self._open_prompt_at
        )
        if self._open_prompt != number or answered:
            return
        self._send(f"diary-nudge:{self._check.block_number}:{number}", "diary_nudge")

    def _send(self, key: str, template: str) -> None:
        """Prompts go out in the background: a slow provider must not hold back the diary's clock."""
        message = send_message(
            pathway_id=self._check.pathway_id, key=key, template=template, patient_ref=self._check.patient_ref
        )
        self._sending.append(asyncio.create_task(message))

    async def _tell_pathway(self, progress: ReliefProgress) -> None:
        parent = workflow.info().parent
        if parent is not None:
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(PROGRESS_SIGNAL, progress)
