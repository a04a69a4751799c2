"""The steps upstream systems record on a pathway; each is an Update whose validator guards the stage.

Each route names its Update, so mypy checks the body model against the Update's argument. The answer is
the pathway view read after the step was taken (api/step_recording.py). With an `Idempotency-Key` the key
becomes the Update's id: a retry returns the step's result instead of recording it twice, or of 409.
"""

import asyncio
import uuid
from collections.abc import Awaitable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from temporalio.client import (
    WorkflowHandle,
)
from temporalio.service import RPCError, RPCStatusCode

from api.auth import require_scope
from api.idempotency import claimed_workflow
from api.outages import TEMPORAL_OUTAGES
from api.problems import Problem, problem_responses
from api.step_recording import Step, recorded
from api.views import current_view
from db.api_clients import ApiClient
from domain.identifiers import relief_check_id
from domain.inputs import ReliefOutcome
from domain.results import (
    AppointmentChangeBody,
    AppointmentChangeRequest,
    AppointmentStatusBody,
    AppointmentStatusChange,
    AttentionResolution,
    BlockRecord,
    CandidacyDecision,
    ExamResult,
    FollowUpAnswer,
    MriReview,
    PainReport,
    ProcedureRecord,
    ScreeningReview,
    StaffRequest,
    Withdrawal,
)
from domain.stages import Stage
from domain.view import PathwayView
from workflows.handles import relief_check_workflow
from workflows.pathway import PatientPathwayWorkflow as Pathway
from workflows.relief_check import ReliefCheckWorkflow

router = APIRouter(tags=["steps"])
Clinical = Annotated[ApiClient, Depends(require_scope("clinical:write"))]
Scheduler = Annotated[ApiClient, Depends(require_scope("appointments:write"))]
Staff = Annotated[ApiClient, Depends(require_scope("staff:write"))]
_PROBLEMS = problem_responses(401, 403, 404, 409, 422, 503)


@router.post(
    "/v1/pathways/{pathway_id}/screening-review",
    summary="Record the clinician's review of a failed screen",
    responses=_PROBLEMS,
)
async def record_screening_review(client: Clinical, body: ScreeningReview, step: Step) -> PathwayView:
    def send(update_id: str | None) -> Awaitable[object]:
        return step.handle.execute_update(Pathway.record_screening_review, body, id=update_id)

    return await recorded(step, client, "screening-review", body, send, "screening_review.write")


@router.post(
    "/v1/pathways/{pathway_id}/mri-review",
    summary="Record the MRI review",
    responses=_PROBLEMS,
)
async def record_mri_review(client: Clinical, body: MriReview, step: Step) -> PathwayView:
    def send(update_id: str | None) -> Awaitable[object]:
        return step.handle.execute_update(Pathway.record_mri_review, body, id=update_id)

    return await recorded(step, client, "mri-review", body, send, "mri_review.write")


@router.post(
    "/v1/pathways/{pathway_id}/exam",
    summary="Record the physical exam",
    responses=_PROBLEMS,
)
async def record_exam(client: Clinical, body: ExamResult, step: Step) -> PathwayView:
    def send(update_id: str | None) -> Awaitable[object]:
        return step.handle.execute_update(Pathway.record_exam, body, id=update_id)

    return await recorded(step, client, "exam", body, send, "exam.write")


@router.post(
    "/v1/pathways/{pathway_id}/block",
    summary="Record the medial branch block",
    responses=_PROBLEMS,
)
async def record_block(client: Clinical, body: BlockRecord, step: Step) -> PathwayView:
    def send(update_id: str | None) -> Awaitable[object]:
        return step.handle.execute_update(Pathway.record_block, body, id=update_id)

    return await recorded(step, client, "block", body, send, "block.write")


@router.post(
    "/v1/pathways/{pathway_id}/pain-reports",
    summary="Staff: transcribe the patient's pain into the diary",
    responses=_PROBLEMS,
)
async def record_pain_report(client: Staff, body: PainReport, step: Step) -> PathwayView:
    # Without a recorded_at, the report counts when it was received here, not when a busy worker takes it
    # (the relief rule reads the diary's times). The key is bound to the body as sent.
    report = body.model_copy(update={"recorded_at": body.recorded_at or step.received_at})
    diary = relief_check_workflow(step.temporal, await _diary_id(client, body, step))

    def send(update_id: str | None) -> Awaitable[object]:
        return _into_diary(diary, report, update_id)

    return await recorded(step, client, "pain-reports", body, send, "pain_report.write", workflow_id=diary.id)


async def _diary_id(client: ApiClient, report: PainReport, step: Step) -> str:
    """The relief check the report goes to: the one its key went to before (a retry gets the first answer,
    even after that check has given its verdict or a later block began), else the current block's."""
    if step.idempotency_key is not None:
        claimed = await claimed_workflow(
            step.pool, client, "pain-reports", step.idempotency_key, report, step.handle.id
        )
        if claimed is not None:
            return claimed
    view = await current_view(step.temporal, step.pool, step.handle.id)
    if view.stage != Stage.RELIEF_CHECK:
        raise Problem(409, "wrong-stage", f"pain reports are taken in relief_check, not {view.stage.value}")
    return relief_check_id(step.handle.id, view.relief_check.block_number)


async def _into_diary(
    diary: WorkflowHandle[ReliefCheckWorkflow, ReliefOutcome], report: PainReport, update_id: str | None
) -> None:
    """The report goes to the relief check that owns the diary; one that has just ended is a 409.

    A report racing the verdict meets the check as it closes, and the server's answer then depends on the
    moment (not found, or a refusal while the closing task runs): while the check still runs, the report is
    sent again under the same Update id (taken once, whichever try lands), and once it has ended, that
    decides. A report sent as the block is recorded may arrive before the server has started the check the
    pathway already names: it waits for it. The caller's timeout bounds every wait (then the step is
    pending). An outage stays an outage."""
    update_id = update_id or f"pain-report-{uuid.uuid4()}"
    pause = _FIRST_PAUSE_SECONDS
    while True:
        try:
            await diary.execute_update(ReliefCheckWorkflow.record_pain_report, report, id=update_id)
            return
        except RPCError as err:
            if err.status in TEMPORAL_OUTAGES:
                raise
            state = await _check_state(diary)
            if state == "closed" or (state != "not_started" and err.status == RPCStatusCode.NOT_FOUND):
                raise Problem(409, "wrong-stage", "the relief check has ended") from err
            if state == "unknown":
                raise
            # not started yet (not found), or running: a moment later, the same Update again
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LAST_PAUSE_SECONDS)


_FIRST_PAUSE_SECONDS = 0.05
_LAST_PAUSE_SECONDS = 0.5


async def _check_state(
    diary: WorkflowHandle[ReliefCheckWorkflow, ReliefOutcome],
) -> Literal["not_started", "running", "closed", "unknown"]:
    try:
        description = await diary.describe()
    except RPCError as err:
        return "not_started" if err.status == RPCStatusCode.NOT_FOUND else "unknown"
    return "running" if description.close_time is None else "closed"


@router.post(
    "/v1/pathways/{pathway_id}/candidacy-decision",
    summary="Record the candidacy decision",
    responses=_PROBLEMS,
)
async def record_candidacy_decision(client: Clinical, body: CandidacyDecision, step: Step) -> PathwayView:
    def send(update_id: str | None) -> Awaitable[object]:
        return step.handle.execute_update(Pathway.record_candidacy_decision, body, id=update_id)

    return await recorded(step, client, "candidacy-decision", body, send, "candidacy.write")


@router.post(
    "/v1/pathways/{pathway_id}/procedure",
    summary="Record the procedure",
    responses=_PROBLEMS,
)
async def record_procedure(client: Clinical, body: ProcedureRecord, step: Step) -> PathwayView:
    def send(update_id: str | None) -> Awaitable[object]:
        return step.handle.execute_update(Pathway.record_procedure, body, id=update_id)

    return await recorded(step, client, "procedure", body, send, "procedure.write")


@router.post(
    "/v1/pathways/{pathway_id}/follow-up",
    summary="Staff: record the patient's next-day follow-up answers",
    responses=_PROBLEMS,
)
async def record_follow_up(client: Staff, body: FollowUpAnswer, step: Step) -> PathwayView:
    def send(update_id: str | None) -> Awaitable[object]:
        return step.handle.execute_update(Pathway.record_follow_up, body, id=update_id)

    return await recorded(step, client, "follow-up", body, send, "follow_up.write")


@router.post(
    "/v1/pathways/{pathway_id}/withdraw",
    summary="Withdraw the pathway",
    responses=_PROBLEMS,
)
async def withdraw(client: Clinical, body: Withdrawal, step: Step) -> PathwayView:
    def send(update_id: str | None) -> Awaitable[object]:
        return step.handle.execute_update(Pathway.withdraw, body, id=update_id)

    return await recorded(step, client, "withdraw", body, send, "withdraw.write")


@router.post(
    "/v1/pathways/{pathway_id}/retry-booking",
    summary="Staff: book again after no slot was found or too many cancellations",
    responses=_PROBLEMS,
)
async def retry_booking(client: Scheduler, body: StaffRequest, step: Step) -> PathwayView:
    def send(update_id: str | None) -> Awaitable[object]:
        return step.handle.execute_update(Pathway.retry_booking, body, id=update_id)

    return await recorded(step, client, "retry-booking", body, send, "booking.retry")


@router.post(
    "/v1/pathways/{pathway_id}/resolve-attention",
    summary="Staff: record how the red flags reported at follow-up were handled",
    responses=_PROBLEMS,
)
async def resolve_attention(client: Staff, body: AttentionResolution, step: Step) -> PathwayView:
    def send(update_id: str | None) -> Awaitable[object]:
        return step.handle.execute_update(Pathway.resolve_attention, body, id=update_id)

    return await recorded(step, client, "resolve-attention", body, send, "attention.resolve")


@router.post(
    "/v1/pathways/{pathway_id}/appointments/{appointment_id}/status",
    summary="Record an arrival, no-show or cancellation",
    description="A no-show is taken once the appointment has begun (before, 409 `wrong-stage`; the demo "
    "profile, whose clock runs ahead of its calendar, takes it at once): it rebooks the appointment, and "
    "past the clinic's limit closes the pathway as `no_show`.",
    responses=_PROBLEMS,
)
async def record_appointment_status(
    client: Scheduler,
    body: AppointmentStatusBody,
    appointment_id: Annotated[str, Path(max_length=64)],
    step: Step,
) -> PathwayView:
    change = AppointmentStatusChange(appointment_id=appointment_id, status=body.status)

    def send(update_id: str | None) -> Awaitable[object]:
        return step.handle.execute_update(Pathway.record_appointment_status, change, id=update_id)

    return await recorded(step, client, "appointment-status", change, send, "appointment.write")


@router.post(
    "/v1/pathways/{pathway_id}/appointments/{appointment_id}/change-request",
    summary="Staff: record a patient's wish to move or cancel a booked appointment",
    responses=_PROBLEMS,
)
async def request_appointment_change(
    client: Staff,
    body: AppointmentChangeBody,
    appointment_id: Annotated[str, Path(max_length=64)],
    step: Step,
) -> PathwayView:
    request = AppointmentChangeRequest(appointment_id=appointment_id, wish=body.wish, via=body.via)

    def send(update_id: str | None) -> Awaitable[object]:
        return step.handle.execute_update(Pathway.request_appointment_change, request, id=update_id)

    return await recorded(step, client, "change-request", request, send, "appointment.change_request")
