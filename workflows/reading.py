"""Reading a pathway as its view, from a client (the API, the tests): the pathway's own query, with the
running relief check's diary, or the running outcome check-ins, read from the child workflow owning them."""

from temporalio.client import Client
from temporalio.service import RPCError

from domain.identifiers import outcome_check_ins_id, relief_check_id
from domain.stages import PathwayStatus, Stage
from domain.view import PathwayView
from workflows.handles import check_ins_workflow, pathway_workflow, relief_check_workflow
from workflows.outcome_check_ins import OutcomeCheckInsWorkflow
from workflows.pathway import PatientPathwayWorkflow
from workflows.relief_check import ReliefCheckWorkflow


async def read_pathway_view(client: Client, pathway_id: str) -> PathwayView:
    """The pathway view; raises RPCError when the pathway cannot be queried. While a relief check runs, its
    diary stands for the latest block, in `relief_check` and in `blocks`."""
    handle = pathway_workflow(client, pathway_id)
    view = await handle.query(PatientPathwayWorkflow.view)
    if view.status != PathwayStatus.ACTIVE:
        return view
    try:
        if view.stage == Stage.RELIEF_CHECK:
            child = relief_check_workflow(client, relief_check_id(pathway_id, view.relief_check.block_number))
            diary = await child.query(ReliefCheckWorkflow.diary)
            blocks = [diary if b.block_number == diary.block_number else b for b in view.blocks]
            update: dict[str, object] = {"relief_check": diary, "blocks": blocks}
            waiting = view.next_action
            if diary.prompts_sent and waiting is not None and waiting.action == "pain_report":
                # The open prompt's answer is due: the check knows it; the pathway was told only the first.
                due = diary.prompts_sent[-1].answer_due_at
                update["next_action"] = waiting.model_copy(update={"due_at": due})
            return view.model_copy(update=update)
        if view.stage == Stage.OUTCOMES and view.outcomes:
            outcomes = check_ins_workflow(client, outcome_check_ins_id(pathway_id))
            return view.model_copy(
                update={"outcomes": await outcomes.query(OutcomeCheckInsWorkflow.check_ins)}
            )
    except RPCError:
        return view  # the child ended between the two reads: the pathway is taking its result
    return view
