"""Reading a pathway's view for an answer, with Temporal's errors turned into problems."""

from temporalio.client import Client
from temporalio.service import RPCError

from api.temporal_errors import missing_or_closed
from domain.inputs import PathwayInput
from domain.view import PathwayView
from workflows.pathway import PatientPathwayWorkflow
from workflows.reading import read_pathway_view


def initial_view(pathway_id: str, pathway: PathwayInput) -> PathwayView:
    """The view of a pathway that has just been started, before its first step has run."""
    return PathwayView(
        pathway_id=pathway_id,
        clinic_site=pathway.clinic_site,
        patient_ref=pathway.patient_ref,
        profile=pathway.config.profile,
        policy_version=pathway.policy_version,
    )


async def current_view(client: Client, pathway_id: str) -> PathwayView:
    try:
        return await read_pathway_view(client, pathway_id)
    except RPCError as err:
        await missing_or_closed(client.get_workflow_handle_for(PatientPathwayWorkflow.run, pathway_id), err)
