"""What the API answers when a dependency fails: 503 for an outage, a logged 500 for anything else."""

from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from api.outages import install_outage_handlers
from api.problems import Problem, install_problem_handlers
from api.temporal_errors import missing_or_closed


def _app_raising(error: Exception) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_outage_handlers(app)

    @app.get("/v1/pathways/{pathway_id}")
    async def _read(pathway_id: str) -> None:
        raise error

    return app


async def _get(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        return await client.get("/v1/pathways/pathway-1")


@pytest.mark.parametrize(
    "status",
    [
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.CANCELLED,  # the SDK's own RPC timeout against a hung server
    ],
)
async def test_a_temporal_outage_is_503_with_retry_after(status: RPCStatusCode) -> None:
    answer = await _get(_app_raising(RPCError("Timeout expired", status, b"")))
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.headers["content-type"] == "application/problem+json"


async def test_an_unexpected_error_is_a_500_logged_by_type_and_route_never_by_message() -> None:
    with capture_logs() as logs:
        answer = await _get(_app_raising(ValueError("Ada Example, +16025550100")))
    assert answer.status_code == 500
    assert "Ada" not in answer.text
    assert logs == [
        {
            "event": "api.unexpected_error",
            "log_level": "error",
            "error": "ValueError",
            "method": "GET",
            "route": "/v1/pathways/{pathway_id}",
        }
    ]


async def test_an_unexpected_temporal_error_is_logged_with_its_status_not_its_message() -> None:
    with capture_logs() as logs:
        answer = await _get(
            _app_raising(RPCError("Ada Example refused", RPCStatusCode.FAILED_PRECONDITION, b""))
        )
    assert answer.status_code == 500
    assert [(e["error"], e["rpc_status"]) for e in logs] == [("RPCError", "FAILED_PRECONDITION")]
    assert "Ada" not in str(logs)


# What the Temporal server answers a Query while the workflow's task is being tried again (its worker was
# killed holding it, or took longer than the task's timeout on a loaded machine): refused at once until a
# worker completes the task.
WORKFLOW_TASK_RETRYING = "Cannot query workflow due to Workflow Task in failed state."


async def test_a_query_refused_while_the_workflow_task_is_retried_is_503() -> None:
    answer = await _get(
        _app_raising(RPCError(WORKFLOW_TASK_RETRYING, RPCStatusCode.FAILED_PRECONDITION, b""))
    )
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.json()["type"] == "/problems/temporal-unavailable"


# The server's words for an Update (a step) sent while the workflow's task is being tried again (attempt 3
# on): refused at once, as the Query is (the fault suite's PostgreSQL cut met it on POST mri-review).
UPDATE_WHILE_TASK_RETRYING = (
    "Unable to perform workflow execution update due to Workflow Task in failed state."
)


async def test_a_step_refused_while_the_workflow_task_is_retried_is_503() -> None:
    err = RPCError(UPDATE_WHILE_TASK_RETRYING, RPCStatusCode.FAILED_PRECONDITION, b"")
    with pytest.raises(Problem) as refused:
        await missing_or_closed(cast(WorkflowHandle[Any, Any], None), err)  # no describe: not a NOT_FOUND
    assert (refused.value.status, refused.value.headers) == (503, {"Retry-After": "5"})
