"""What a worker or replayer runs: the workflow classes and the sandbox they run in."""

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from workflows.outcome_check_ins import OutcomeCheckInsWorkflow
from workflows.pathway import PatientPathwayWorkflow
from workflows.relief_check import ReliefCheckWorkflow

WORKFLOWS: list[type] = [PatientPathwayWorkflow, ReliefCheckWorkflow, OutcomeCheckInsWorkflow]

# Our own packages are deterministic (no I/O, no clocks at import), so the sandbox passes them through
# instead of re-running their module code for every workflow run: less memory per cached pathway, and no
# CPU spent re-importing at each start. Runtime restrictions still apply to what workflow code calls.
PASSED_THROUGH = ("domain", "workflows", "activities", "config", "db")


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH)
    )
