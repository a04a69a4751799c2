"""The outcome check-ins after the next-day follow-up (2 weeks, 6 weeks, 3, 6 and 12 months): a child workflow
of the pathway, so that a year of check-ins does not grow the pathway's own history.

Each check-in asks for pain (0-10), work status and the Patient Global Impression of Change (1-7), and for
red flags. One whose moment comes in the patient's quiet hours is sent when they end (its `due_at` then says
so); unanswered, it follows the chain of workflows/check_in_chain.py from when it was sent. Answers (staff
transcribe them) and staff calls are Updates on this workflow; it tells the pathway by signal only what staff
must see (a call needed, a check-in closed with any red flags). A `stop` signal (the patient withdrew)
marks the check-ins not yet answered `stopped` and ends it.

The check-ins follow one another in one run while its history is short; past RUN_EVENTS events the next one
goes to a new run (continue-as-new), so a year of them, however many calls they take, keeps each run small.
"""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.answers import CheckInAccepted
    from domain.check_ins import CheckInStatus
    from domain.inputs import OutcomeEvent, OutcomeProgress, OutcomesInput, OutcomesResult
    from domain.refusals import Refusal
    from domain.results import CheckInAnswers, OutcomeAnswer, StaffCall
    from domain.stages import AttentionReason
    from domain.view import OutcomeCheckInView, StaffCallView, Versioned
    from workflows.view_version import VIEW_CODE_VERSION

from workflows.check_in_chain import CheckInChain, wait_out_quiet_hours
from workflows.messenger import Messenger
from workflows.refusal import refuse

_LABELS = {
    "2_weeks": "2 weeks",
    "6_weeks": "6 weeks",
    "3_months": "3 months",
    "6_months": "6 months",
    "12_months": "12 months",
}


FEWER_RUNS = "outcome-check-ins-fewer-runs"
"""Patch: the next check-in is taken in the same run while the run's history is short."""
RUN_EVENTS = 150
"""Past this many events a run hands the next check-in to a new run, so a run holds at most this many plus
its last check-in's. A check-in adds about 30 events answered and 60 unanswered and called about once (each
further call about 7): a typical year fits one run, and the longest tested shape's runs stay under 200."""


class _Stopped(Exception):
    """The pathway stopped the check-ins."""


@workflow.defn(name="OutcomeCheckIns")
class OutcomeCheckInsWorkflow:
    @workflow.init
    def __init__(self, outcomes: OutcomesInput) -> None:
        self._in = outcomes
        self._check_ins = outcomes.check_ins or [
            OutcomeCheckInView(check_in=name, due_at=at) for name, at in outcomes.schedule
        ]
        self._open: int | None = None
        self._answer: OutcomeAnswer | None = None
        self._call: StaffCall | None = None
        self._stopped = False
        self._signals: list[asyncio.Task[None]] = []
        self._messenger = Messenger(
            outcomes.pathway_id,
            outcomes.patient_ref,
            self._message_trouble,
            quiet_hours=outcomes.quiet_hours,
            patient_timezone=outcomes.patient_timezone,
        )

    @workflow.run
    async def run(self, outcomes: OutcomesInput) -> OutcomesResult:
        try:
            while True:
                scheduled = [i for i, c in enumerate(self._check_ins) if c.status == CheckInStatus.SCHEDULED]
                if not scheduled:
                    raise _Stopped  # nothing left to ask (a run started with every check-in closed)
                index = scheduled[0]
                await self._when_due(index)
                await self._check_in(index)
                if index + 1 == len(self._check_ins):
                    break
                if self._next_in_this_run():
                    continue
                await self._settle()
                if not self._stopped:  # the next check-in in a new run
                    workflow.continue_as_new(self._in.model_copy(update={"check_ins": self._check_ins}))
                raise _Stopped
        except _Stopped:
            self._check_ins = [
                c.model_copy(update={"status": CheckInStatus.STOPPED})
                if c.status in (CheckInStatus.SCHEDULED, CheckInStatus.OPEN)
                else c
                for c in self._check_ins
            ]
            self._open = None
            self._messenger.drop_held("")  # nothing held for a stopped check-in is sent
        workflow.set_current_details(self._details())
        await self._settle()
        return OutcomesResult(check_ins=self._check_ins)

    @staticmethod
    def _next_in_this_run() -> bool:
        """Whether the next check-in is taken in this run: while its history is short (a new run costs its
        input twice, in the continue-as-new and the started events). Runs started before FEWER_RUNS went on
        in a new run after each check-in, and replay so."""
        return workflow.info().get_current_history_length() < RUN_EVENTS and workflow.patched(FEWER_RUNS)

    async def _settle(self) -> None:
        """Waits for the messages and signals under way, and the Updates being answered."""
        await self._messenger.drain()  # bounded: each message gives up within the hour
        await asyncio.gather(*self._signals, return_exceptions=True)  # a pathway already closed
        await workflow.wait_condition(workflow.all_handlers_finished)

    # ---- one check-in ----------------------------------------------------------------------------------

    async def _when_due(self, index: int) -> None:
        """Waits for the check-in's moment, then for the end of the quiet hours it falls in, if any."""
        check_in = self._check_ins[index]
        await self._wait_until(lambda: False, check_in.due_at, f"{_LABELS[check_in.check_in]} check-in")
        await wait_out_quiet_hours(
            self._wait_until,
            lambda: False,  # nothing is taken before it is open
            self._in.patient_timezone,
            self._in.quiet_hours,
            held=lambda until: self._held(index, until),
        )

    def _held(self, index: int, until: datetime) -> None:
        """Its moment came in quiet hours: it is sent when they end, and shows so."""
        self._update(index, due_at=until)

    async def _check_in(self, index: int) -> None:
        name = self._check_ins[index].check_in
        self._open = index
        self._update(index, status=CheckInStatus.OPEN)
        self._messenger.to_patient("outcome_check_in", f"outcome:{name}", {"interval": _LABELS[name]})
        chain = CheckInChain(
            workflow.now(),
            self._in.times,
            self._wait_until,
            remind=lambda: self._messenger.to_patient(
                "check_in_reminder", f"outcome-reminder:{name}", {"interval": _LABELS[name]}
            ),
            call_staff=lambda deadline: self._call_staff(name, deadline),
        )
        workflow.set_current_details(self._details())
        status = CheckInStatus.NOT_OBTAINED
        while await chain.arrival(lambda: self._answer is not None or self._call is not None):
            if self._call is not None:
                call, self._call = self._call, None
                self._take_call(index, call)
                if not call.reached:
                    continue  # staff may call again until the final deadline
                status = CheckInStatus.ANSWERED if call.answers is not None else CheckInStatus.NOT_OBTAINED
                break
            answer, self._answer = self._answer, None
            assert answer is not None
            self._answered(index, answer, answer.recorded_by)
            status = CheckInStatus.ANSWERED
            break
        self._update(index, status=status)
        self._open = None
        self._messenger.drop_held(f"outcome-reminder:{name}")  # still waiting out quiet hours: no longer so
        workflow.set_current_details(self._details())
        following = self._answer_due(index + 1)
        self._tell_pathway(
            OutcomeProgress(
                event=OutcomeEvent.CLOSED,
                check_in=name,
                status=status,
                due_at=following,
                red_flags=self._check_ins[index].red_flags,
            )
        )

    def _answer_due(self, index: int) -> datetime | None:
        """When the answer to the `index`th check-in is due (None past the last)."""
        if index >= len(self._check_ins):
            return None
        return self._check_ins[index].due_at + self._in.times.answer_window

    def _call_staff(self, name: str, deadline: datetime) -> None:
        """Staff are told here, and the pathway shows the call is needed (without telling them again)."""
        self._messenger.to_staff(
            "staff_attention",
            f"call-patient:{name}",
            {
                "pathway_id": self._in.pathway_id,
                "reason": f"{_LABELS[name]} check-in unanswered: call the patient",
            },
        )
        self._tell_pathway(OutcomeProgress(event=OutcomeEvent.CALL_STAFF, check_in=name, due_at=deadline))

    def _take_call(self, index: int, call: StaffCall) -> None:
        calls = [*self._check_ins[index].staff_calls, StaffCallView.of(call, workflow.now())]
        self._update(index, staff_calls=calls)
        if call.reached and call.answers is not None:
            self._answered(index, call.answers, call.called_by)

    def _answered(self, index: int, answers: OutcomeAnswer | CheckInAnswers, recorded_by: str) -> None:
        """The answers, transcribed or obtained on a call, and who recorded them."""
        self._update(
            index,
            answered_at=workflow.now(),
            pain=answers.pain,
            work_status=answers.work_status,
            pgic=answers.pgic,
            red_flags=list(answers.red_flags),
            recorded_by=recorded_by,
        )

    def _update(self, index: int, **changes: object) -> None:
        self._check_ins[index] = self._check_ins[index].model_copy(update=changes)

    async def _wait_until(self, ready: Callable[[], bool], until: datetime, summary: str) -> bool:
        """Waits until `ready()` or `until`; raises _Stopped once the pathway stops the check-ins."""

        def woken() -> bool:
            return ready() or self._stopped

        remaining = until - workflow.now()
        if not woken() and remaining > timedelta(0):
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(woken, timeout=remaining, timeout_summary=summary)
        if self._stopped:
            raise _Stopped
        return ready()

    # ---- what staff and the pathway send ---------------------------------------------------------------

    @workflow.update(description="Record the answers of the open outcome check-in (staff transcribe them).")
    async def record_outcome_check_in(self, answer: OutcomeAnswer) -> CheckInAccepted:
        self._answer = answer
        await workflow.wait_condition(lambda: self._answer is not answer or self._stopped)
        if self._answer is answer:
            self._answer = None
            raise refuse(Refusal.PATHWAY_CLOSED, "the outcome check-ins were stopped before it was taken")
        return CheckInAccepted(check_in=answer.check_in)

    @record_outcome_check_in.validator
    def _check_outcome_check_in(self, answer: OutcomeAnswer) -> None:
        name = self._open_check_in()
        if answer.check_in != name:
            raise refuse(Refusal.WRONG_STAGE, f"the open check-in is {name}, not {answer.check_in}")
        if self._answer is not None or self._call is not None:
            raise refuse(Refusal.WRONG_STAGE, f"the {name} check-in is already being recorded")

    @workflow.update(description="Record staff's call to a patient who did not answer the open check-in.")
    async def record_staff_call(self, call: StaffCall) -> CheckInAccepted:
        name = self._open_check_in()
        self._call = call
        await workflow.wait_condition(lambda: self._call is not call or self._stopped)
        if self._call is call:
            self._call = None
            raise refuse(Refusal.PATHWAY_CLOSED, "the outcome check-ins were stopped before it was taken")
        return CheckInAccepted(check_in=name)

    @record_staff_call.validator
    def _check_staff_call(self, call: StaffCall) -> None:
        name = self._open_check_in()
        if call.answers is not None and not call.reached:
            raise refuse(Refusal.INVALID_STEP, "answers are recorded only when the patient was reached")
        if call.answers is not None and (refusal := call.answers.refusal_at_outcomes()):
            raise refuse(Refusal.INVALID_STEP, refusal)
        if self._call is not None or self._answer is not None:
            raise refuse(Refusal.WRONG_STAGE, f"the {name} check-in is already being recorded")

    @workflow.signal(description="The patient withdrew: the check-ins not yet answered are stopped.")
    def stop(self) -> None:
        self._stopped = True

    @workflow.query(description="Every outcome check-in: when it is sent, where it stands, the answers.")
    def check_ins(self) -> list[OutcomeCheckInView]:
        return self._check_ins

    @workflow.query(
        description="The check-ins, with the version of the code that read them (the API's copy)."
    )
    def versioned_check_ins(self) -> Versioned[list[OutcomeCheckInView]]:
        return Versioned[list[OutcomeCheckInView]](version=VIEW_CODE_VERSION, value=self._check_ins)

    def _open_check_in(self) -> str:
        if self._stopped:
            raise refuse(Refusal.PATHWAY_CLOSED, "the outcome check-ins have been stopped")
        if self._open is None:
            coming = next((c for c in self._check_ins if c.status == CheckInStatus.SCHEDULED), None)
            if coming is None:
                raise refuse(Refusal.WRONG_STAGE, "every outcome check-in has closed")
            raise refuse(Refusal.WRONG_STAGE, f"no check-in is open: the {coming.check_in} check-in is next")
        return self._check_ins[self._open].check_in

    # ---- telling the pathway ---------------------------------------------------------------------------

    def _details(self) -> str:
        lines = [f"**{_LABELS[c.check_in]}:** {c.status.value}" for c in self._check_ins]
        return "\n\n".join(lines)

    def _message_trouble(self, reason: AttentionReason) -> None:
        event = (
            OutcomeEvent.PATIENT_UNREACHABLE
            if reason == AttentionReason.PATIENT_UNREACHABLE
            else OutcomeEvent.MESSAGE_NOT_DELIVERED
        )
        self._tell_pathway(OutcomeProgress(event=event))

    def _tell_pathway(self, progress: OutcomeProgress) -> None:
        """Signals the pathway in the background; the run waits for them before it returns."""
        parent = workflow.info().parent
        if parent is None:
            return
        from workflows.pathway import PatientPathwayWorkflow  # the pathway imports this module

        # declared: mypy cannot always infer it inside the pathway's import cycle (workflows/handles.py)
        handle: workflow.ExternalWorkflowHandle[PatientPathwayWorkflow] = (
            workflow.get_external_workflow_handle_for(PatientPathwayWorkflow.run, parent.workflow_id)
        )
        self._signals.append(
            asyncio.create_task(handle.signal(PatientPathwayWorkflow.outcome_progress, progress))
        )
