"""A dependency that does not answer is a 503 with Retry-After, never a 500.

PostgreSQL refusing or dropping connections, shutting down or out of connections, and Temporal's service
being unreachable or too slow, are outages: the request may well succeed when it is sent again. Whatever route
meets one, and wherever in the route (authentication reads PostgreSQL first), the answer is the same
application/problem+json 503. The detail names the dependency, never the request's data.
"""

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import problem_response, unexpected
from db.outages import CONNECTION_OUTAGES

RETRY_AFTER = {"Retry-After": "5"}
TEMPORAL_UNAVAILABLE = (
    "The workflow service, or the worker running the pathway, did not answer in time; try again."
)

# Temporal's answers that mean "not now" rather than "no". A call the SDK gave up on at its RPC timeout (a
# hung server) comes back CANCELLED ("Timeout expired").
TEMPORAL_OUTAGES = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.CANCELLED,
    }
)
# The server refuses a Query or an Update at once while the workflow's task is being tried again (its worker
# was killed holding it, or took longer than the task's timeout on a loaded machine), until a worker completes
# the task: "not now" too. It says so in words only ("Cannot query workflow due to ...", "Unable to perform
# workflow execution update due to ..."); its other FAILED_PRECONDITION answers stay errors.
WORKFLOW_TASK_RETRYING = "Workflow Task in failed state"


def temporal_outage(err: RPCError) -> bool:
    """Whether Temporal's answer means "not now": the call may well succeed when it is sent again."""
    return err.status in TEMPORAL_OUTAGES or (
        err.status == RPCStatusCode.FAILED_PRECONDITION and WORKFLOW_TASK_RETRYING in err.message
    )


def database_unavailable(instance: str) -> JSONResponse:
    return problem_response(
        503, "database-unavailable", "The database did not answer; try again.", instance, RETRY_AFTER
    )


def temporal_unavailable(instance: str) -> JSONResponse:
    return problem_response(
        503,
        "temporal-unavailable",
        TEMPORAL_UNAVAILABLE,
        instance,
        RETRY_AFTER,
    )


def install_outage_handlers(app: FastAPI) -> None:
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        return database_unavailable(request.url.path)

    for outage in CONNECTION_OUTAGES:
        app.add_exception_handler(outage, _database)

    @app.exception_handler(asyncpg.InterfaceError)
    async def _interface(request: Request, exc: asyncpg.InterfaceError) -> JSONResponse:
        # A closed pool or connection is an outage; any other misuse of the driver is a bug.
        if "closed" in str(exc) or "closing" in str(exc):
            return database_unavailable(request.url.path)
        return unexpected(request, exc)

    @app.exception_handler(RPCError)
    async def _temporal(request: Request, exc: RPCError) -> JSONResponse:
        if temporal_outage(exc):
            return temporal_unavailable(request.url.path)
        return unexpected(request, exc)

    @app.exception_handler(RPCTimeoutOrCancelledError)
    async def _temporal_timeout(request: Request, exc: RPCTimeoutOrCancelledError) -> JSONResponse:
        return temporal_unavailable(request.url.path)
