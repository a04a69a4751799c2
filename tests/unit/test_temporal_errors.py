"""Temporal's answers to an Update become the API's statuses: every refusal, and a step that crossed the end
of its workflow, is a 4xx, never a 500."""

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import Problem
from api.temporal_errors import missing_or_closed, refused
from domain.refusals import Refusal


def _failed(type_: str, message: str = "refused") -> WorkflowUpdateFailedError:
    return WorkflowUpdateFailedError(ApplicationError(message, type=type_, non_retryable=True))


def test_every_refusal_has_a_client_error_status() -> None:
    for refusal in Refusal:
        problem = refused(_failed(refusal.value))
        assert 400 <= problem.status < 500, refusal
        assert problem.detail == "refused"


def test_a_conflicting_pain_report_is_a_409_report_conflict() -> None:
    problem = refused(_failed(Refusal.CONFLICTING_REPORT.value))
    assert (problem.status, problem.slug) == (409, "report-conflict")


@pytest.mark.parametrize(
    ("server_type", "server_message"),
    [
        (
            "AcceptedUpdateCompletedWorkflow",
            "Workflow Update failed because the Workflow completed before the Update completed.",
        ),
        (
            "UnprocessedUpdate",
            "Workflow Update is rejected because it wasn't processed by worker. Probably, Workflow Update is "
            "not supported by the worker.",
        ),
    ],
)
def test_a_step_the_workflow_ended_before_taking_is_a_409(server_type: str, server_message: str) -> None:
    problem = refused(_failed(server_type, server_message))
    assert (problem.status, problem.slug) == (409, "wrong-stage")
    assert "Workflow" not in problem.detail  # the caller reads about the pathway, not about Temporal


def test_an_unexpected_failure_is_still_a_500() -> None:
    assert refused(_failed("ValueError", "boom")).status == 500


async def test_a_permanent_temporal_error_is_not_answered_try_again() -> None:
    """Only outages are 503: a refused argument or permission would fail the same way on every retry."""
    handle = Client.__new__(Client)  # never reached: the error decides before any call
    err = RPCError("bad request", RPCStatusCode.INVALID_ARGUMENT, b"")
    with pytest.raises(RPCError):
        await missing_or_closed(handle, err)  # type: ignore[arg-type]
    outage = RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b"")
    with pytest.raises(Problem) as problem:
        await missing_or_closed(handle, outage)  # type: ignore[arg-type]
    assert problem.value.status == 503


async def test_a_query_refused_while_the_workflow_task_is_retried_is_an_outage() -> None:
    """The server refuses a Query while the workflow's task is tried again (a worker killed holding it, or
    one slower than the task's timeout): it answers once a worker completes the task."""
    handle = Client.__new__(Client)  # never reached: the error decides before any call
    err = RPCError(
        "Cannot query workflow due to Workflow Task in failed state.", RPCStatusCode.FAILED_PRECONDITION, b""
    )
    with pytest.raises(Problem) as problem:
        await missing_or_closed(handle, err)  # type: ignore[arg-type]
    assert problem.value.status == 503
