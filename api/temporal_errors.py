"""Turning Temporal's answers to an Update or Query into the API's status codes."""

from typing import Any, NoReturn

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.outages import RETRY_AFTER, TEMPORAL_UNAVAILABLE, temporal_outage
from api.problems import Problem
from domain.refusals import Refusal

# What the API answers for each kind of refusal the workflows' validators raise.
_REFUSALS = {
    Refusal.WRONG_STAGE: (409, "wrong-stage"),
    Refusal.PATHWAY_CLOSED: (409, "pathway-closed"),
    Refusal.INVALID_STEP: (422, "invalid-step"),
    Refusal.UNKNOWN_APPOINTMENT: (404, "unknown-appointment"),
    Refusal.CONFLICTING_REPORT: (409, "report-conflict"),
}


# What the Temporal server answers for an Update the workflow completed before taking: accepted but not
# completed, or delivered in the workflow task that completed it (an Update that had only been admitted gets
# RPCError NOT_FOUND instead). The step crossed the end of its stage: a conflict, not a server error.
_ENDED_BEFORE_TAKEN = {"AcceptedUpdateCompletedWorkflow", "UnprocessedUpdate"}


def refused(err: WorkflowUpdateFailedError) -> Problem:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type in set(Refusal):
        status, slug = _REFUSALS[Refusal(cause.type)]
        return Problem(status, slug, cause.message)
    if isinstance(cause, ApplicationError) and cause.type in _ENDED_BEFORE_TAKEN:
        return Problem(409, "wrong-stage", "The step arrived as its stage ended; read the pathway again.")
    return Problem(500, "step-failed", "The pathway could not take the step.")


async def missing_or_closed(handle: WorkflowHandle[Any, Any], err: RPCError) -> NoReturn:
    """An RPC error on a pathway: 404 if there is no such pathway, 409 if it has ended."""
    if temporal_outage(err):
        raise unavailable() from err
    if err.status != RPCStatusCode.NOT_FOUND:
        raise err  # a permanent error is not "try again": the app answers it 500
    try:
        description = await handle.describe()
    except RPCError:
        raise Problem(404, "pathway-not-found", "No pathway has this id.") from err
    if description.close_time is not None:
        raise Problem(409, "pathway-closed", "The pathway has ended and takes no more steps.") from err
    raise Problem(404, "pathway-not-found", "No pathway has this id.") from err


def unavailable() -> Problem:
    return Problem(
        503,
        "temporal-unavailable",
        TEMPORAL_UNAVAILABLE,
        headers=dict(RETRY_AFTER),
    )
