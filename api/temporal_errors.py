"""Turning Temporal's answers to an Update or Query into the API's status codes."""

from typing import Any, NoReturn

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import Problem

# The workflow validators' refusal types (workflows/pathway.py) and what the API answers for each.
_REFUSALS = {
    "WrongStage": (409, "wrong-stage"),
    "PathwayClosed": (409, "pathway-closed"),
    "InvalidStep": (422, "invalid-step"),
    "UnknownAppointment": (404, "unknown-appointment"),
}


def refused(err: WorkflowUpdateFailedError) -> Problem:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type in _REFUSALS:
        status, slug = _REFUSALS[cause.type]
        return Problem(status, slug, cause.message)
    return Problem(500, "step-failed", "The pathway could not take the step.")


async def missing_or_closed(handle: WorkflowHandle[Any, Any], err: RPCError) -> NoReturn:
    """An RPC error on a pathway: 404 if there is no such pathway, 409 if it has ended."""
    if err.status != RPCStatusCode.NOT_FOUND:
        raise Problem(503, "temporal-unavailable", "The workflow service did not answer; try again.") from err
    try:
        description = await handle.describe()
    except RPCError:
        raise Problem(404, "pathway-not-found", "No pathway has this id.") from err
    if description.close_time is not None:
        raise Problem(409, "pathway-closed", "The pathway has ended and takes no more steps.") from err
    raise Problem(404, "pathway-not-found", "No pathway has this id.") from err
