"""A client's handle of each workflow, typed: the pathway, its relief check, its outcome check-ins.

mypy solves `get_workflow_handle_for`'s type parameters from the method given only when the result has a
declared type to meet: the three workflows import one another, and a bare `handle = ...` could come out as
`Never`, depending on the order mypy happens to check that cycle in (a fresh check, not a cached one).
"""

from temporalio.client import Client, WorkflowHandle

from domain.answers import PathwayResult
from domain.inputs import OutcomesResult, ReliefOutcome
from workflows.outcome_check_ins import OutcomeCheckInsWorkflow
from workflows.pathway import PatientPathwayWorkflow
from workflows.relief_check import ReliefCheckWorkflow


def pathway_workflow(
    client: Client, workflow_id: str
) -> WorkflowHandle[PatientPathwayWorkflow, PathwayResult]:
    return client.get_workflow_handle_for(PatientPathwayWorkflow.run, workflow_id)


def relief_check_workflow(
    client: Client, workflow_id: str
) -> WorkflowHandle[ReliefCheckWorkflow, ReliefOutcome]:
    return client.get_workflow_handle_for(ReliefCheckWorkflow.run, workflow_id)


def check_ins_workflow(
    client: Client, workflow_id: str
) -> WorkflowHandle[OutcomeCheckInsWorkflow, OutcomesResult]:
    return client.get_workflow_handle_for(OutcomeCheckInsWorkflow.run, workflow_id)
