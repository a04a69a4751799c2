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
        await missing_or_closed(handle, err)
    except TimeoutError as err:
        raise Problem(
            504, "step-pending", "The pathway has not confirmed the step yet; read it again shortly."
        ) from err
    await audit.record(
        pool, actor=client.name, action=action, pathway_id=handle.id, patient_ref=view.patient_ref
    )
    return view


def _step_route(
    path: str, model: type[StepModel], update: Any, writer: Any, action: str, summary: str
) -> None:
    """Registers `POST /v1/pathways/{pathway_id}/<path>`: validate `model`, run `update`, answer the view."""

    async def record_step(
        client: Annotated[ApiClient, Depends(writer)],  # first: a request without a key is 401, not 404
        body: model,  # type: ignore[valid-type]
        handle: PathwayHandle,
        pool: Pool,
        settings: AppSettings,
    ) -> PathwayView:
        return await _record(handle, update, body, pool, client, settings, action)

    record_step.__name__ = f"record_{action.split('.')[0]}"
    router.post(
        f"/v1/pathways/{{pathway_id}}/{path}", response_model=PathwayView, responses=_ERRORS, summary=summary
    )(record_step)


_clinical = require_scope("clinical:write")
_patient = require_scope("patient:write")
W = PatientPathwayWorkflow
_step_route(
    "mri-review", MriReview, W.record_mri_review, _clinical, "mri_review.write", "Record the MRI review"
)
_step_route("exam", ExamResult, W.record_exam, _clinical, "exam.write", "Record the physical exam")
_step_route("block", BlockRecord, W.record_block, _clinical, "block.write", "Record the medial branch block")
_step_route(
    "pain-reports", PainReport, W.record_pain_report, _patient, "pain_report.write", "Add a pain report"
)
_step_route(
    "candidacy-decision", CandidacyDecision, W.record_candidacy_decision, _clinical, "candidacy.write",
    "Record the candidacy decision",
)  # fmt: skip
_step_route(
    "procedure", ProcedureRecord, W.record_procedure, _clinical, "procedure.write", "Record the procedure"
)
_step_route(
    "follow-up", FollowUpAnswer, W.record_follow_up, _patient, "follow_up.write", "Record the follow-up"
)
_step_route("withdraw", Withdrawal, W.withdraw, _clinical, "withdraw.write", "Withdraw the pathway")


@router.post(
    "/v1/pathways/{pathway_id}/appointments/{appointment_id}/status",
    response_model=PathwayView,
    responses=_ERRORS,
)
async def appointment_status(
    client: Scheduler,
    body: AppointmentStatusBody,
    appointment_id: Annotated[str, Path(max_length=64)],
    handle: PathwayHandle,
    pool: Pool,
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
