"""Reading a pathway's view for an answer."""

from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.service import RPCError

from api.temporal_errors import missing_or_closed
from domain.inputs import PathwayInput
from domain.stages import PathwayStatus, Stage
from domain.view import PathwayView
from workflows.pathway import PatientPathwayWorkflow


def initial_view(pathway_id: str, pathway: PathwayInput) -> dict[str, Any]:
    """The view of a pathway that has just been started, before its first step has run."""
    view = PathwayView(
        pathway_id=pathway_id,
        stage=Stage.INTAKE,
        status=PathwayStatus.ACTIVE,
        clinic_site=pathway.clinic_site,
        patient_ref=pathway.patient_ref,
        profile=pathway.config.profile,
    )
    return view.model_dump(mode="json")


async def current_view(handle: WorkflowHandle[PatientPathwayWorkflow, PathwayView]) -> dict[str, Any]:
    try:
        view = await handle.query(PatientPathwayWorkflow.view)
    except RPCError as err:
        await missing_or_closed(handle, err)
    return view.model_dump(mode="json")
