"""The steps upstream systems record on a pathway; each is an Update whose validator guards the stage.

Each route names its Update, so mypy checks the body model against the Update's argument. The answer is
the pathway view read after the step was taken.
"""

import asyncio
from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import require_scope
from api.dependencies import AppSettings, PathwayHandle, Pool, TemporalClient
from api.problems import Problem, problem_responses
from api.temporal_errors import missing_or_closed, refused
from api.views import current_view
from db import audit
from db.api_clients import ApiClient
from domain.identifiers import relief_check_id
from domain.inputs import ReliefOutcome
from domain.results import (
    AppointmentStatusBody,
    AppointmentStatusChange,
    BlockRecord,
    CandidacyDecision,
    ExamResult,
    FollowUpAnswer,
    MriReview,
    PainReport,
    ProcedureRecord,
    StaffRequest,
    Withdrawal,
)
from domain.stages import Stage
from domain.view import PathwayView
from workflows.pathway import PatientPathwayWorkflow as Pathway
from workflows.relief_check import ReliefCheckWorkflow

router = APIRouter(tags=["steps"])
Clinical = Annotated[ApiClient, Depends(require_scope("clinical:write"))]
PatientSide = Annotated[ApiClient, Depends(require_scope("patient:write"))]
Scheduler = Annotated[ApiClient, Depends(require_scope("appointments:write"))]
_PROBLEMS = problem_responses(401, 403, 404, 409, 422, 503)


async def _recorded(
    step: Awaitable[Any],
    handle: PathwayHandle,
    temporal: TemporalClient,
    pool: Pool,
    client: ApiClient,
    settings: AppSettings,
    action: str,
) -> PathwayView:
    """Runs the step's Update, audits it, and answers the view as it stands after the step."""
    try:
        await asyncio.wait_for(step, timeout=settings.update_timeout_seconds)
    except WorkflowUpdateFailedError as err:
        raise refused(err) from err
    except RPCError as err:
        await missing_or_closed(handle, err)
    except TimeoutError as err:
        raise Problem(
            503,
            "step-pending",
            "The pathway has not confirmed the step yet; read it again shortly.",
            headers={"Retry-After": "2"},
        ) from err
    view = await current_view(temporal, handle.id)
    await audit.record(
        pool, actor=client.name, action=action, pathway_id=handle.id, patient_ref=view.patient_ref
    )
    return view


@router.post(
    "/v1/pathways/{pathway_id}/mri-review",
    summary="Record the MRI review",
    responses=_PROBLEMS,
)
async def record_mri_review(
    client: Clinical,
    body: MriReview,
    handle: PathwayHandle,
    temporal: TemporalClient,
    pool: Pool,
    settings: AppSettings,
) -> PathwayView:
    step = handle.execute_update(Pathway.record_mri_review, body)
    return await _recorded(step, handle, temporal, pool, client, settings, "mri_review.write")


@router.post(
    "/v1/pathways/{pathway_id}/exam",
    summary="Record the physical exam",
    responses=_PROBLEMS,
)
async def record_exam(
    client: Clinical,
    body: ExamResult,
    handle: PathwayHandle,
    temporal: TemporalClient,
    pool: Pool,
    settings: AppSettings,
) -> PathwayView:
    step = handle.execute_update(Pathway.record_exam, body)
    return await _recorded(step, handle, temporal, pool, client, settings, "exam.write")


@router.post(
    "/v1/pathways/{pathway_id}/block",
    summary="Record the medial branch block",
    responses=_PROBLEMS,
)
async def record_block(
    client: Clinical,
    body: BlockRecord,
    handle: PathwayHandle,
    temporal: TemporalClient,
    pool: Pool,
    settings: AppSettings,
) -> PathwayView:
    step = handle.execute_update(Pathway.record_block, body)
    return await _recorded(step, handle, temporal, pool, client, settings, "block.write")


@router.post(
    "/v1/pathways/{pathway_id}/pain-reports", summary="Add a pain report to the diary", responses=_PROBLEMS
)
async def record_pain_report(
    client: PatientSide,
    body: PainReport,
    handle: PathwayHandle,
    temporal: TemporalClient,
    pool: Pool,
    settings: AppSettings,
) -> PathwayView:
    view = await current_view(temporal, handle.id)
    if view.stage != Stage.RELIEF_CHECK:
        raise Problem(409, "wrong-stage", f"pain reports are taken in relief_check, not {view.stage.value}")
    diary = temporal.get_workflow_handle_for(
        ReliefCheckWorkflow.run, relief_check_id(handle.id, view.relief_check.block_number)
    )
    step = _into_diary(diary, body)
    return await _recorded(step, handle, temporal, pool, client, settings, "pain_report.write")


async def _into_diary(diary: WorkflowHandle[ReliefCheckWorkflow, ReliefOutcome], report: PainReport) -> None:
    """The report goes to the relief check that owns the diary; one that has just ended is a 409."""
    try:
        await diary.execute_update(ReliefCheckWorkflow.record_pain_report, report)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        raise Problem(409, "wrong-stage", "the relief check has ended") from err


@router.post(
    "/v1/pathways/{pathway_id}/candidacy-decision",
    summary="Record the candidacy decision",
    responses=_PROBLEMS,
)
async def record_candidacy_decision(
    client: Clinical,
    body: CandidacyDecision,
    handle: PathwayHandle,
    temporal: TemporalClient,
    pool: Pool,
    settings: AppSettings,
) -> PathwayView:
    step = handle.execute_update(Pathway.record_candidacy_decision, body)
    return await _recorded(step, handle, temporal, pool, client, settings, "candidacy.write")


@router.post(
    "/v1/pathways/{pathway_id}/procedure",
    summary="Record the procedure",
    responses=_PROBLEMS,
)
async def record_procedure(
    client: Clinical,
    body: ProcedureRecord,
    handle: PathwayHandle,
    temporal: TemporalClient,
    pool: Pool,
    settings: AppSettings,
) -> PathwayView:
    step = handle.execute_update(Pathway.record_procedure, body)
    return await _recorded(step, handle, temporal, pool, client, settings, "procedure.write")


@router.post(
    "/v1/pathways/{pathway_id}/follow-up", summary="Record the next-day follow-up", responses=_PROBLEMS
)
async def record_follow_up(
    client: PatientSide,
    body: FollowUpAnswer,
    handle: PathwayHandle,
    temporal: TemporalClient,
    pool: Pool,
    settings: AppSettings,
) -> PathwayView:
    step = handle.execute_update(Pathway.record_follow_up, body)
    return await _recorded(step, handle, temporal, pool, client, settings, "follow_up.write")


@router.post(
    "/v1/pathways/{pathway_id}/withdraw",
    summary="Withdraw the pathway",
    responses=_PROBLEMS,
)
async def withdraw(
    client: Clinical,
    body: Withdrawal,
    handle: PathwayHandle,
    temporal: TemporalClient,
    pool: Pool,
    settings: AppSettings,
) -> PathwayView:
    step = handle.execute_update(Pathway.withdraw, body)
    return await _recorded(step, handle, temporal, pool, client, settings, "withdraw.write")


@router.post(
    "/v1/pathways/{pathway_id}/retry-booking",
    summary="Staff: book again after no slot was found or too many cancellations",
    responses=_PROBLEMS,
)
async def retry_booking(
    client: Scheduler,
    body: StaffRequest,
    handle: PathwayHandle,
    temporal: TemporalClient,
    pool: Pool,
    settings: AppSettings,
) -> PathwayView:
    step = handle.execute_update(Pathway.retry_booking, body)
    return await _recorded(step, handle, temporal, pool, client, settings, "booking.retry")


@router.post(
    "/v1/pathways/{pathway_id}/appointments/{appointment_id}/status",
    summary="Record an arrival, no-show or cancellation",
    responses=_PROBLEMS,
)
async def record_appointment_status(
    client: Scheduler,
    body: AppointmentStatusBody,
    appointment_id: Annotated[str, Path(max_length=64)],
    handle: PathwayHandle,
    temporal: TemporalClient,
    pool: Pool,
    settings: AppSettings,
) -> PathwayView:
    change = AppointmentStatusChange(appointment_id=appointment_id, status=body.status)
    step = handle.execute_update(Pathway.record_appointment_status, change)
    return await _recorded(step, handle, temporal, pool, client, settings, "appointment.write")
