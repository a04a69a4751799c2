"""Staff's part in the check-ins after the procedure: a call to a patient who did not answer, and the answers
to an outcome check-in transcribed.

At the next-day follow-up the pathway takes the call; during the outcome check-ins their own workflow takes
both (the pathway's history stays bounded). As for pain reports, a retry with the same Idempotency-Key goes
to the workflow its key went to first.
"""

from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from temporalio.service import RPCError, RPCStatusCode

from api.auth import require_scope
from api.idempotency import claimed_workflow
from api.problems import Problem, problem_responses
from api.step_recording import Step, recorded
from api.views import current_view
from db.api_clients import ApiClient
from domain.identifiers import outcome_check_ins_id
from domain.results import OutcomeAnswer, StaffCall
from domain.stages import Stage
from domain.view import PathwayView
from workflows.handles import check_ins_workflow
from workflows.outcome_check_ins import OutcomeCheckInsWorkflow as CheckIns
from workflows.pathway import PatientPathwayWorkflow as Pathway

router = APIRouter(tags=["steps"])
Staff = Annotated[ApiClient, Depends(require_scope("staff:write"))]
_PROBLEMS = problem_responses(401, 403, 404, 409, 422, 503)


@router.post(
    "/v1/pathways/{pathway_id}/staff-call",
    summary="Staff: record a call to a patient who did not answer the open check-in",
    responses=_PROBLEMS,
)
async def record_staff_call(client: Staff, body: StaffCall, step: Step) -> PathwayView:
    target = await _target(client, "staff-call", body, step, (Stage.FOLLOW_UP, Stage.OUTCOMES))
    if target == step.handle.id:

        def send(update_id: str | None) -> Awaitable[object]:
            return step.handle.execute_update(Pathway.record_staff_call, body, id=update_id)

        return await recorded(step, client, "staff-call", body, send, "staff_call.write")
    check_ins = check_ins_workflow(step.temporal, target)

    async def send_to_check_ins(update_id: str | None) -> None:
        await _while_running(check_ins.execute_update(CheckIns.record_staff_call, body, id=update_id))

    return await recorded(
        step, client, "staff-call", body, send_to_check_ins, "staff_call.write", workflow_id=target
    )


@router.post(
    "/v1/pathways/{pathway_id}/outcome-check-ins",
    summary="Staff: record the answers to the open outcome check-in",
    responses=_PROBLEMS,
)
async def record_outcome_check_in(client: Staff, body: OutcomeAnswer, step: Step) -> PathwayView:
    target = await _target(client, "outcome-check-ins", body, step, (Stage.OUTCOMES,))
    check_ins = check_ins_workflow(step.temporal, target)

    async def send(update_id: str | None) -> None:
        await _while_running(check_ins.execute_update(CheckIns.record_outcome_check_in, body, id=update_id))

    return await recorded(
        step, client, "outcome-check-ins", body, send, "outcome_check_in.write", workflow_id=target
    )


async def _target(
    client: ApiClient, route: str, body: BaseModel, step: Step, stages: tuple[Stage, ...]
) -> str:
    """The workflow the step goes to: the one its key went to before (a retry gets the first answer), else
    the pathway at its follow-up, or its outcome check-ins."""
    if step.idempotency_key is not None:
        claimed = await claimed_workflow(step.pool, client, route, step.idempotency_key, body, step.handle.id)
        if claimed is not None:
            return claimed
    view = await current_view(step.temporal, step.pool, step.handle.id)
    if view.stage not in stages:
        taken = " or ".join(stage.value for stage in stages)
        raise Problem(409, "wrong-stage", f"this step is taken in {taken}, not {view.stage.value}")
    if view.stage == Stage.OUTCOMES:
        if not view.outcomes:
            raise Problem(409, "wrong-stage", "the pathway has no outcome check-ins")
        return outcome_check_ins_id(step.handle.id)
    return step.handle.id


async def _while_running(update: Awaitable[object]) -> None:
    """The check-ins that have just ended (the last closed, or stopped) answer 409."""
    try:
        await update
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        raise Problem(409, "wrong-stage", "the outcome check-ins have ended") from err
