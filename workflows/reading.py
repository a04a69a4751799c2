"""Reading a pathway as its view, from a client (the API, the tests): the pathway's own query, with the
running relief check's diary read from the child workflow that owns it."""

from temporalio.client import Client
from temporalio.service import RPCError

from domain.identifiers import relief_check_id
from domain.stages import PathwayStatus, Stage
from domain.view import PathwayView
from workflows.pathway import PatientPathwayWorkflow
from workflows.relief_check import ReliefCheckWorkflow


async def read_pathway_view(client: Client, pathway_id: str) -> PathwayView:
    """The pathway view; raises RPCError when the pathway cannot be queried. While a relief check runs, its
    diary stands for the latest block, in `relief_check` and in `blocks`."""
    handle = client.get_workflow_handle_for(PatientPathwayWorkflow.run, pathway_id)
    view = await handle.query(PatientPathwayWorkflow.view)
    if view.stage != Stage.RELIEF_CHECK or view.status != PathwayStatus.ACTIVE:
        return view
    child = client.get_workflow_handle_for(
        ReliefCheckWorkflow.run, relief_check_id(pathway_id, view.relief_check.block_number)
    )
    try:
        diary = await child.query(ReliefCheckWorkflow.diary)
    except RPCError:
        return view  # the check ended between the two reads: the pathway is taking its result
    blocks = [diary if b.block_number == diary.block_number else b for b in view.blocks]
    return view.model_copy(update={"relief_check": diary, "blocks": blocks})
