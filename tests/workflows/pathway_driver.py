"""Drives one pathway through its steps, as upstream systems would, on the time-skipping server."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.answers import PathwayResult
from domain.appointments import Appointment, AppointmentKind, AppointmentStatus
from domain.check_ins import CheckInStatus
from domain.config import CLINICAL
from domain.identifiers import outcome_check_ins_id, relief_check_id
from domain.inputs import PathwayInput
from domain.relief import diary_window_end
from domain.results import (
    AppointmentStatusChange,
    AttentionResolution,
    BlockRecord,
    CandidacyDecision,
    CheckInAnswers,
    ExamResult,
    FollowUpAnswer,
    MriReview,
    OutcomeAnswer,
    PainReport,
    ProcedureRecord,
    SafetyChecklist,
    ScreeningReview,
    StaffCall,
    Withdrawal,
)
from domain.stages import Actor, Stage
from domain.view import PathwayView
from tests.workflows.clinic_worker import TASK_QUEUE
from tests.workflows.eventually import POLL_SECONDS, WAIT_SECONDS
from tests.workflows.fakes import FakeClinic
from tests.workflows.time_skipping import skip
from workflows.outcome_check_ins import OutcomeCheckInsWorkflow
from workflows.pathway import PatientPathwayWorkflow
from workflows.reading import read_pathway_view
from workflows.relief_check import ReliefCheckWorkflow
from workflows.start import start_pathway

SAFE = SafetyChecklist(
    anticoagulants_managed=True,
    no_active_infection=True,
    allergies_reviewed=True,
    pregnancy_excluded_or_not_applicable=True,
)


POSITIVE_DIARY = [(timedelta(minutes=15), 1), (timedelta(hours=1), 1), (timedelta(hours=2), 7)]
"""Near-complete relief from 15 minutes after the block, the usual pain back by 2 hours: a positive block."""


class PathwayDriver:
    def __init__(
        self,
        env: WorkflowEnvironment,
        clinic: FakeClinic,
        handle: WorkflowHandle[PatientPathwayWorkflow, PathwayResult],
    ) -> None:
        self.env, self.clinic, self.handle = env, clinic, handle

    @classmethod
    async def start(
        cls, env: WorkflowEnvironment, clinic: FakeClinic, pathway: PathwayInput
    ) -> "PathwayDriver":
        handle, _ = await start_pathway(env.client, f"pathway-{uuid.uuid4()}", pathway, task_queue=TASK_QUEUE)
        return cls(env, clinic, handle)

    async def view(self) -> PathwayView:
        """The view as the API reads it: the pathway's, with a running relief check's diary."""
        return await read_pathway_view(self.env.client, self.handle.id)

    def relief_check(self, block_number: int = 1) -> WorkflowHandle[ReliefCheckWorkflow, Any]:
        return self.env.client.get_workflow_handle_for(
            ReliefCheckWorkflow.run, relief_check_id(self.handle.id, block_number)
        )

    async def pain_report(self, report: PainReport) -> PathwayView:
        block_number = (await self.view()).relief_check.block_number
        await self.relief_check(block_number).execute_update(ReliefCheckWorkflow.record_pain_report, report)
        return await self.view()

    async def step(self, update: Any, arg: object) -> PathwayView:
        """Runs any Update of the pathway with `arg`, and reads the view after it."""
        return await self._taken(self.handle.execute_update(update, arg))

    async def _taken(self, step: Awaitable[object]) -> PathwayView:
        """Runs a step's Update and reads the view after it, as the API answers."""
        await step
        return await self.view()

    async def wait_for(self, what: str, check: Callable[[PathwayView], bool]) -> PathwayView:
        """Polls the view until `check` holds: the workflow moves on its own, so this waits on state."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            view = await self.view()
            if check(view):
                return view
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(POLL_SECONDS)
        raise AssertionError(
            f"pathway never reached: {what}; last stage {view.stage}, next {view.next_action}"
        )

    async def booked(self, kind: AppointmentKind, count: int = 1) -> Appointment:
        view = await self.wait_for(
            f"{count} {kind} booking(s)",
            lambda v: (
                sum(a.kind == kind for a in v.appointments) >= count
                and v.next_action is not None
                and not v.next_action.action.startswith("book_")
            ),
        )
        return [a for a in view.appointments if a.kind == kind][-1]

    async def result(self) -> PathwayView:
        """Waits for the pathway to end, then reads its final view."""
        await self.handle.result()
        return await self.view()

    async def screening_review(self, proceed: bool, reason: str = "reviewed the referral") -> PathwayView:
        await self.wait_for(
            "screening review due",
            lambda v: v.next_action is not None and v.next_action.action == "screening_review",
        )
        return await self._taken(
            self.handle.execute_update(
                PatientPathwayWorkflow.record_screening_review,
                ScreeningReview(proceed=proceed, reason=reason, reviewed_by="Dr. Screener"),
            )
        )

    async def mri_review(self, swelling: bool = True) -> PathwayView:
        await self.wait_for(
            "mri review due", lambda v: v.next_action is not None and v.next_action.action == "mri_review"
        )
        return await self._taken(
            self.handle.execute_update(
                PatientPathwayWorkflow.record_mri_review,
                MriReview(
                    facet_swelling=swelling, levels=["L4-L5"], side="bilateral", reviewed_by="Dr. Radiologist"
                ),
            )
        )

    async def exam(self, concordant: bool = True) -> PathwayView:
        await self.booked(AppointmentKind.EXAM)
        return await self._taken(
            self.handle.execute_update(
                PatientPathwayWorkflow.record_exam,
                ExamResult(palpation_concordant=concordant, levels=["L4-L5"], examined_by="Dr. Physician"),
            )
        )

    async def block(self, baseline: int = 8, count: int = 1, **extra: Any) -> PathwayView:
        """The `count`th block, once booked; lidocaine unless `extra` says (anesthetic, override_reason)."""
        await self.booked(AppointmentKind.BLOCK, count)
        extra.setdefault("anesthetic", "lidocaine")
        return await self._taken(
            self.handle.execute_update(
                PatientPathwayWorkflow.record_block,
                BlockRecord(
                    levels=["L4-L5"],
                    side="bilateral",
                    baseline_pain=baseline,
                    performed_by="Dr. Physician",
                    **extra,
                ),
            )
        )

    async def to_relief_check(self) -> datetime:
        """MRI review, exam and block recorded; returns when the block was performed (the diary's start)."""
        await self.mri_review()
        await self.exam()
        performed_at = (await self.block()).relief_check.performed_at
        assert performed_at is not None
        return performed_at

    async def diary(self, entries: list[tuple[timedelta, int]]) -> None:
        """Reports each pain score once the workflow clock has reached its time after the block, recorded at
        that time (the server's clock runs on between the skip and the report: by a second on a busy
        machine, enough to move an onset of 15 minutes to 15.01)."""
        performed_at = (await self.view()).relief_check.performed_at
        assert performed_at is not None
        for after, pain in entries:
            await self.skip_to(performed_at + after)
            await self.pain_report(PainReport(pain=pain, recorded_at=performed_at + after))

    async def skip_past_diary_window(self) -> None:
        """Skips the workflow clock past the end of the current block's diary window."""
        view = await self.view()
        assert view.relief_check.performed_at is not None
        await self.skip_to(
            diary_window_end(view.relief_check.performed_at, CLINICAL.relief) + timedelta(minutes=1)
        )

    async def skip_to(self, at: datetime) -> None:
        now = await self.workflow_now()
        if at > now:
            await skip(self.env, at - now)

    async def workflow_now(self) -> datetime:
        return await self.env.get_current_time()

    async def decide(self, approved: bool = True, **extra: Any) -> PathwayView:
        """The candidacy decision; an approval carries a complete safety checklist unless `extra` says."""
        await self.wait_for("candidacy", lambda v: v.stage == Stage.CANDIDACY)
        if approved:
            extra.setdefault("anesthesia", "twilight")
            extra.setdefault("safety_checklist", SAFE)
        return await self._taken(
            self.handle.execute_update(
                PatientPathwayWorkflow.record_candidacy_decision,
                CandidacyDecision(approved=approved, decided_by="Dr. Surgeon", **extra),
            )
        )

    async def procedure(self, status: str = "completed", count: int = 1, **extra: Any) -> PathwayView:
        await self.booked(AppointmentKind.DVR, count)
        return await self._taken(
            self.handle.execute_update(
                PatientPathwayWorkflow.record_procedure,
                ProcedureRecord(
                    status=status,
                    levels_treated=["L4-L5"] if status == "completed" else [],
                    performed_by="Dr. Surgeon",
                    **extra,
                ),
            )
        )

    async def to_follow_up(self) -> PathwayView:
        """MRI review, exam, a block whose diary is positive, an approval and the DVR done: the pathway then
        waits for its follow-up."""
        await self.to_relief_check()
        await self.diary(POSITIVE_DIARY)
        await self.decide(approved=True)
        return await self.procedure("completed")

    async def follow_up(self, pain: int = 1, red_flags: list[str] | None = None) -> PathwayView:
        return await self._taken(
            self.handle.execute_update(
                PatientPathwayWorkflow.record_follow_up,
                FollowUpAnswer(pain=pain, returned_to_work=True, red_flags=red_flags or []),
            )
        )

    async def resolve_attention(self, note: str = "called the patient; seen in clinic today") -> PathwayView:
        return await self._taken(
            self.handle.execute_update(
                PatientPathwayWorkflow.resolve_attention,
                AttentionResolution(reason="red_flags", note=note, resolved_by="Nurse Kim"),
            )
        )

    async def appointment_status(self, appointment: Appointment, status: AppointmentStatus) -> PathwayView:
        if status == AppointmentStatus.NOSHOW:  # recorded once the appointment has begun, as a clinic would
            await self.skip_to(appointment.starts_at)
        return await self._taken(
            self.handle.execute_update(
                PatientPathwayWorkflow.record_appointment_status,
                AppointmentStatusChange(appointment_id=appointment.appointment_id, status=status.value),
            )
        )

    async def withdraw(self, reason: str = "patient moved away") -> PathwayView:
        return await self._taken(
            self.handle.execute_update(PatientPathwayWorkflow.withdraw, Withdrawal(reason=reason))
        )

    def outcome_check_ins(self) -> WorkflowHandle[OutcomeCheckInsWorkflow, Any]:
        return self.env.client.get_workflow_handle_for(
            OutcomeCheckInsWorkflow.run, outcome_check_ins_id(self.handle.id)
        )

    async def outcome_runs(self) -> list[list[HistoryEvent]]:
        """The events of each run of the outcome check-ins, the first first."""
        return await runs_of(self.env.client, outcome_check_ins_id(self.handle.id))

    async def until_outcome_open(self, check_in: str) -> PathwayView:
        """Skips the clock to the check-in's time and waits until it is open."""
        view = await self.wait_for("outcome check-ins scheduled", lambda v: bool(v.outcomes))
        due = next(o.due_at for o in view.outcomes if o.check_in == check_in)
        await self.skip_to(due)
        return await self.wait_for(
            f"{check_in} open, and the pathway told",
            lambda v: (
                any(o.check_in == check_in and o.status == CheckInStatus.OPEN for o in v.outcomes)
                and v.next_action is not None
                and v.next_action.action == "outcome_check_in"
                and v.next_action.actor == Actor.PATIENT
            ),
        )

    async def outcome_check_in(
        self,
        check_in: str,
        pain: int = 2,
        work_status: str = "working_full",
        pgic: int = 2,
        red_flags: list[str] | None = None,
    ) -> PathwayView:
        """Staff transcribe the patient's answers to the open outcome check-in."""
        answer = OutcomeAnswer(
            check_in=check_in,
            pain=pain,
            work_status=work_status,
            pgic=pgic,
            red_flags=red_flags or [],
            recorded_by="Nurse Kim",
        )
        return await self._taken(
            self.outcome_check_ins().execute_update(OutcomeCheckInsWorkflow.record_outcome_check_in, answer)
        )

    async def staff_call(self, reached: bool, answers: CheckInAnswers | None = None) -> PathwayView:
        """Staff record a call: on the pathway at its follow-up, on the outcome check-ins after."""
        call = StaffCall(reached=reached, answers=answers, note="called the patient", called_by="Nurse Kim")
        if (await self.view()).stage == Stage.OUTCOMES:
            update = self.outcome_check_ins().execute_update(OutcomeCheckInsWorkflow.record_staff_call, call)
            return await self._taken(update)
        return await self._taken(self.handle.execute_update(PatientPathwayWorkflow.record_staff_call, call))


async def runs_of(client: Client, workflow_id: str) -> list[list[HistoryEvent]]:
    """The events of each run of a workflow, the first first: followed back from its latest run through each
    run's predecessor."""
    runs: list[list[HistoryEvent]] = []
    run_id: str | None = None
    while True:
        events = list((await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()).events)
        runs.insert(0, events)
        run_id = events[0].workflow_execution_started_event_attributes.continued_execution_run_id
        if not run_id:
            return runs
