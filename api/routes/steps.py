"""The steps upstream systems record on a pathway; each is an Update whose validator guards the stage."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from api.auth import require_scope
from api.dependencies import AppSettings, PathwayHandle, Pool
from api.problems import Problem
from api.temporal_errors import missing_or_closed, refused
from db import audit
from db.api_clients import ApiClient
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
    StepModel,
    Withdrawal,
)
from domain.view import PathwayView
from workflows.pathway import PatientPathwayWorkflow

router = APIRouter(tags=["steps"])
Clinical = Annotated[ApiClient, Depends(require_scope("clinical:write"))]
PatientAnswer = Annotated[ApiClient, Depends(require_scope("patient:write"))]
Scheduler = Annotated[ApiClient, Depends(require_scope("appointments:write"))]
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such pathway"},
    409: {"description": "Not at this stage, or the pathway has ended"},
    422: {"description": "The body is invalid"},
}


async def _record(
    handle: PathwayHandle,
    update: Any,
    body: StepModel,
    pool: Pool,
    client: ApiClient,
    settings: AppSettings,
    action: str,
) -> PathwayView:
    try:
        view: PathwayView = await asyncio.wait_for(
            handle.execute_update(update, body), timeout=settings.update_timeout_seconds
        )
    except WorkflowUpdateFailedError as err:
        raise refused(err) from err
    except RPCError as err:
        await missing_or_closed(handle, err)  # type: ignore[arg-type]
    except TimeoutError as err:
        raise Problem(
            504, "step-pending", "The pathway has not confirmed the step yet; read it again shortly."
        ) from err
    await audit.record(
        pool, actor=client.name, action=action, pathway_id=handle.id, patient_ref=view.patient_ref
    )
    return view


@router.post("/v1/pathways/{pathway_id}/mri-review", response_model=PathwayView, responses=_ERRORS)
async def mri_review(
    body: MriReview, handle: PathwayHandle, pool: Pool, client: Clinical, settings: AppSettings
) -> PathwayView:
    return await _record(
        handle, PatientPathwayWorkflow.record_mri_review, body, pool, client, settings, "mri_review.write"
    )


@router.post("/v1/pathways/{pathway_id}/exam", response_model=PathwayView, responses=_ERRORS)
async def exam(
    body: ExamResult, handle: PathwayHandle, pool: Pool, client: Clinical, settings: AppSettings
) -> PathwayView:
    return await _record(
        handle, PatientPathwayWorkflow.record_exam, body, pool, client, settings, "exam.write"
    )


@router.post("/v1/pathways/{pathway_id}/block", response_model=PathwayView, responses=_ERRORS)
async def block(
    body: BlockRecord, handle: PathwayHandle, pool: Pool, client: Clinical, settings: AppSettings
) -> PathwayView:
    return await _record(
        handle, PatientPathwayWorkflow.record_block, body, pool, client, settings, "block.write"
    )


@router.post("/v1/pathways/{pathway_id}/pain-reports", response_model=PathwayView, responses=_ERRORS)
async def pain_report(
    body: PainReport, handle: PathwayHandle, pool: Pool, client: PatientAnswer, settings: AppSettings
) -> PathwayView:
    return await _record(
        handle, PatientPathwayWorkflow.record_pain_report, body, pool, client, settings, "pain_report.write"
    )


@router.post("/v1/pathways/{pathway_id}/candidacy-decision", response_model=PathwayView, responses=_ERRORS)
async def candidacy_decision(
    body: CandidacyDecision, handle: PathwayHandle, pool: Pool, client: Clinical, settings: AppSettings
) -> PathwayView:
    return await _record(
        handle,
        PatientPathwayWorkflow.record_candidacy_decision,
        body,
        pool,
        client,
        settings,
        "candidacy.write",
    )


@router.post("/v1/pathways/{pathway_id}/procedure", response_model=PathwayView, responses=_ERRORS)
async def procedure(
    body: ProcedureRecord, handle: PathwayHandle, pool: Pool, client: Clinical, settings: AppSettings
) -> PathwayView:
    return await _record(
        handle, PatientPathwayWorkflow.record_procedure, body, pool, client, settings, "procedure.write"
    )


@router.post("/v1/pathways/{pathway_id}/follow-up", response_model=PathwayView, responses=_ERRORS)
async def follow_up(
    body: FollowUpAnswer, handle: PathwayHandle, pool: Pool, client: PatientAnswer, settings: AppSettings
) -> PathwayView:
    return await _record(
        handle, PatientPathwayWorkflow.record_follow_up, body, pool, client, settings, "follow_up.write"
    )


@router.post(
    "/v1/pathways/{pathway_id}/appointments/{appointment_id}/status",
    response_model=PathwayView,
    responses=_ERRORS,
)
async def appointment_status(
    body: AppointmentStatusBody,
    appointment_id: Annotated[str, Path(max_length=64)],
    handle: PathwayHandle,
    pool: Pool,
    client: Scheduler,
    settings: AppSettings,
) -> PathwayView:
    change = AppointmentStatusChange(appointment_id=appointment_id, status=body.status)
    return await _record(
        handle,
        PatientPathwayWorkflow.record_appointment_status,
        change,
        pool,
        client,
        settings,
        "appointment.write",
    )


@router.post("/v1/pathways/{pathway_id}/withdraw", response_model=PathwayView, responses=_ERRORS)
async def withdraw(
    body: Withdrawal, handle: PathwayHandle, pool: Pool, client: Clinical, settings: AppSettings
) -> PathwayView:
    return await _record(
        handle, PatientPathwayWorkflow.withdraw, body, pool, client, settings, "withdraw.write"
    )
