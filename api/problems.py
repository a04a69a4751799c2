"""RFC 9457 problem details: every error the API answers, with a type, a title and a PHI-free detail."""

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError

log = structlog.get_logger()

PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
    504: "Gateway timeout",
}


class InvalidField(BaseModel):
    loc: list[str]
    msg: str
    type: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details; `errors` lists what was wrong with a request that did not validate."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[InvalidField] | None = None


MEANINGS = {
    400: "The request could not be read",
    401: "No API key, or not a valid one",
    403: "The API key lacks the scope",
    404: "No such pathway (or appointment)",
    409: "Not at this stage, already recorded, or the pathway has ended",
    413: "The request body is over the size limit",
    422: "The request does not match the contract, or the step is not acceptable",
    429: "Too many failed authentications from this address; retry after Retry-After",
    500: "An unexpected error",
    503: "PostgreSQL or Temporal did not answer, or the step is not confirmed yet; retry after Retry-After",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problem statuses a route can answer."""
    return {status: {"model": ProblemDetails, "description": MEANINGS[status]} for status in statuses}


class Problem(Exception):
    """Raised anywhere in a request; answered as application/problem+json."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.slug, self.detail = status, slug, detail
        self.headers = headers or {}
        self.extra = extra or {}


def problem_body(status: int, slug: str, detail: str, instance: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": f"/problems/{slug}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }


def problem_response(
    status: int, slug: str, detail: str, instance: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = problem_body(status, slug, detail, instance, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.slug, exc.detail, request.url.path, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Only where and what: the submitted values may be PHI and are never echoed back.
        errors = [
            {
                "loc": [str(part) for part in e.get("loc", ())],
                "msg": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in exc.errors()
        ]
        return problem_response(
            422,
            "invalid-request",
            "The request does not match the contract.",
            request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = _TITLES.get(exc.status_code, "error").lower().replace(" ", "-")
        return problem_response(exc.status_code, slug, str(exc.detail), request.url.path, exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected(request, exc)


def unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A 500, logged by the error's type and the route only: its message may carry request data (PHI)."""
    route = request.scope.get("route")
    # Temporal's status code says which answer was not expected; it carries no request data.
    rpc = {"rpc_status": exc.status.name} if isinstance(exc, RPCError) and exc.status is not None else {}
    log.error(
        "api.unexpected_error",
        error=type(exc).__name__,
        **rpc,
        method=request.method,
        route=getattr(route, "path", "unmatched"),
    )
    return problem_response(500, "internal-error", "An unexpected error occurred.", request.url.path)
