"""Starting a pathway: the one place that knows its id, search attributes and summary."""

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain.answers import PathwayResult
from domain.inputs import PathwayInput
from domain.stages import Stage
from workflows import TASK_QUEUE
from workflows import search_attributes as sa
from workflows.descriptions import pathway_details, pathway_summary
from workflows.pathway import PatientPathwayWorkflow


async def start_pathway(
    client: Client, pathway_id: str, pathway: PathwayInput, *, task_queue: str = TASK_QUEUE
) -> tuple[WorkflowHandle[PatientPathwayWorkflow, PathwayResult], bool]:
    """Starts the pathway, or finds the one already started for this id (running or ended).

    Returns the handle and whether this call started it.
    """
    try:
        handle = await client.start_workflow(
            PatientPathwayWorkflow.run,
            pathway,
            id=pathway_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.PATHWAY_STAGE, Stage.INTAKE.value),
                    SearchAttributePair(sa.CLINIC_SITE, pathway.clinic_site),
                    SearchAttributePair(sa.PATIENT_REF, pathway.patient_ref),
                    SearchAttributePair(sa.NEEDS_ATTENTION, False),
                ]
            ),
            static_summary=pathway_summary(pathway),
            static_details=pathway_details(pathway),
        )
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle_for(PatientPathwayWorkflow.run, pathway_id), False
    return handle, True
