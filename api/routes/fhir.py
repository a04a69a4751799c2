"""The read-only FHIR R4 view (`/fhir`): a pathway as a `Task`, its appointments and its answers, built from
the pathway view (no PHI: the patient is named by `patient_ref` only). Same scope, site limits and audit rows
as `GET /v1/pathways/{pathway_id}`; errors are `OperationOutcome`s with the status the JSON API gives them,
unknown paths (404) and other methods on a known one (405, with Allow) included.

An Appointment or a QuestionnaireResponse is also read by its id (each Bundle entry's `fullUrl`): its pathway
is found from the id, then held to the same site check, scope and audit row.

Not in the OpenAPI document, whose contract (problem+json errors, schema-checked answers) is the JSON API's;
`GET /fhir/metadata` describes these routes.
"""

import inspect
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

from api.dependencies import PathwayHandle, Pool, TemporalClient, pathway_handle
from api.fhir.appointments import appointments_of
from api.fhir.bundle import searchset
from api.fhir.capability import capability_statement
from api.fhir.codes import FHIR_JSON
from api.fhir.ids import pathway_of_appointment, pathway_of_response
from api.fhir.operation_outcome import operation_outcome
from api.fhir.questionnaire_responses import questionnaire_responses_of
from api.fhir.task import task_of
from api.problems import Problem
from api.routes.pathways import Reader
from api.site_access import Sites
from api.views import current_view
from db import audit
from domain.view import PathwayView

# When the CapabilityStatement last changed.
CAPABILITY_DATE = "2026-12-05"


class FhirJSONResponse(JSONResponse):
    media_type = FHIR_JSON


class _OperationOutcomeRoute(APIRoute):
    """Answers the problems raised on the way (authentication, scope, unknown pathway, invalid request) as
    OperationOutcomes, keeping their status and headers. Any other error (an outage, a bug) is answered by
    the app's own handler (logged; 503 with Retry-After, or 500), then made an OperationOutcome likewise."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def _handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Problem as problem:
                body = operation_outcome(problem.status, problem.detail)
                return FhirJSONResponse(body, status_code=problem.status, headers=problem.headers)
            except RequestValidationError:
                body = operation_outcome(422, "The request does not match what this server reads.")
                return FhirJSONResponse(body, status_code=422)
            except Exception as error:  # an outage (503) or an unexpected error (500): as the app answers it
                return _as_operation_outcome(await _app_answer(request, error))

        return _handle


async def _app_answer(request: Request, error: Exception) -> Response:
    """What the app's exception handlers (api/problems.py, api/outages.py) answer for the error."""
    handlers: dict[Any, Callable[[Request, Exception], Any]] = request.app.exception_handlers
    for kind in type(error).__mro__:
        if (handler := handlers.get(kind)) is not None:
            answer = handler(request, error)
            response: Response = await answer if inspect.isawaitable(answer) else answer
            return response
    raise error


def _as_operation_outcome(problem: Response) -> Response:
    """A problem+json answer as an OperationOutcome: its status, headers (Retry-After), PHI-free detail."""
    detail = json.loads(bytes(problem.body)).get("detail", "An unexpected error occurred.")
    headers = {k: v for k, v in problem.headers.items() if k not in ("content-type", "content-length")}
    body = operation_outcome(problem.status_code, str(detail))
    return FhirJSONResponse(body, status_code=problem.status_code, headers=headers)


router = APIRouter(
    prefix="/fhir",
    tags=["fhir"],
    route_class=_OperationOutcomeRoute,
    default_response_class=FhirJSONResponse,
    include_in_schema=False,
)


async def _read(
    client: Reader, handle: PathwayHandle, temporal: TemporalClient, pool: Pool, resource: str
) -> PathwayView:
    """The pathway's view, audited as `GET /v1/pathways/{pathway_id}` audits it (FHIR resource in detail)."""
    view = await current_view(temporal, pool, handle.id)
    await audit.record(
        pool,
        actor=client.name,
        action="pathway.read",
        pathway_id=handle.id,
        patient_ref=view.patient_ref,
        detail={"fhir": resource},
    )
    return view


async def _handle_of(
    temporal: TemporalClient, pool: Pool, sites: Sites, pathway_id: str | None, resource: str
) -> PathwayHandle:
    """The handle of the pathway a resource id belongs to, if the key reaches it; else 404, as for an unknown
    id (a limited key learns nothing of other sites)."""
    if pathway_id is not None:
        try:
            return await pathway_handle(temporal, pool, sites, pathway_id)
        except Problem:
            pass
    raise _not_found(resource)


def _not_found(resource: str) -> Problem:
    return Problem(404, "resource-not-found", f"No {resource} has this id.")


def _one(resources: list[dict[str, Any]], resource_id: str, resource: str) -> dict[str, Any]:
    for candidate in resources:
        if candidate["id"] == resource_id:
            return candidate
    raise _not_found(resource)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


@router.get("/metadata")
async def metadata() -> FhirJSONResponse:
    return FhirJSONResponse(capability_statement(CAPABILITY_DATE))


@router.get("/Task/{pathway_id}")
async def read_task(
    client: Reader, handle: PathwayHandle, temporal: TemporalClient, pool: Pool
) -> FhirJSONResponse:
    view = await _read(client, handle, temporal, pool, "Task")
    return FhirJSONResponse(task_of(view))


@router.get("/Task/{pathway_id}/Appointment")
async def search_appointments(
    request: Request, client: Reader, handle: PathwayHandle, temporal: TemporalClient, pool: Pool
) -> FhirJSONResponse:
    view = await _read(client, handle, temporal, pool, "Appointment")
    return FhirJSONResponse(searchset(_base(request), appointments_of(view)))


@router.get("/Task/{pathway_id}/QuestionnaireResponse")
async def search_questionnaire_responses(
    request: Request, client: Reader, handle: PathwayHandle, temporal: TemporalClient, pool: Pool
) -> FhirJSONResponse:
    view = await _read(client, handle, temporal, pool, "QuestionnaireResponse")
    return FhirJSONResponse(searchset(_base(request), questionnaire_responses_of(view)))


@router.get("/Appointment/{appointment_id}")
async def read_appointment(
    appointment_id: str, client: Reader, sites: Sites, temporal: TemporalClient, pool: Pool
) -> FhirJSONResponse:
    pathway_id = await pathway_of_appointment(pool, appointment_id)
    return await _read_by_id(
        "Appointment", appointment_id, pathway_id, appointments_of, client, sites, temporal, pool
    )


@router.get("/QuestionnaireResponse/{response_id}")
async def read_questionnaire_response(
    response_id: str, client: Reader, sites: Sites, temporal: TemporalClient, pool: Pool
) -> FhirJSONResponse:
    return await _read_by_id(
        "QuestionnaireResponse",
        response_id,
        pathway_of_response(response_id),
        questionnaire_responses_of,
        client,
        sites,
        temporal,
        pool,
    )


async def _read_by_id(
    resource: str,
    resource_id: str,
    pathway_id: str | None,
    resources_of: Callable[[PathwayView], list[dict[str, Any]]],
    client: Reader,
    sites: Sites,
    temporal: TemporalClient,
    pool: Pool,
) -> FhirJSONResponse:
    """A resource read by its id, from the pathway the id was found to belong to (`pathway_id`; None: none):
    that pathway held to the key's sites, then read and audited as the pathway is, then the resource of that
    id among its `resources_of`. Any of them missing is the same 404, as for an unknown id."""
    handle = await _handle_of(temporal, pool, sites, pathway_id, resource)
    view = await _read(client, handle, temporal, pool, resource)
    return FhirJSONResponse(_one(resources_of(view), resource_id, resource))


class _UnservedRoute(APIRoute):
    """Whatever under /fhir the routes above do not answer: 404 for a path none of them serves, 405 (with
    Allow) for a method a served path does not take, as OperationOutcomes rather than the JSON API's
    problem+json. Runs no dependency: nothing is read, so nothing is authenticated or audited."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        async def _handle(request: Request) -> Response:
            allowed = _methods_served_at(request.scope)
            if allowed:
                body = operation_outcome(405, f"This path answers {', '.join(allowed)} only.")
                return FhirJSONResponse(body, status_code=405, headers={"Allow": ", ".join(allowed)})
            body = operation_outcome(404, "Nothing is served at this path; GET /fhir/metadata lists what is.")
            return FhirJSONResponse(body, status_code=404)

        return _handle


def _methods_served_at(scope: Scope) -> list[str]:
    """The methods the FHIR routes take at the request's path (none: an unknown path)."""
    methods: set[str] = set()
    for route in router.routes:
        if not isinstance(route, APIRoute) or isinstance(route, _UnservedRoute):
            continue
        if route.matches(scope)[0] is not Match.NONE:
            methods |= route.methods or set()
    return sorted(methods)


async def _unserved() -> None:
    """Never called: `_UnservedRoute` answers without it."""


# Last, so that every served path and method is matched first.
for _path in ("", "/{path:path}"):
    router.add_api_route(
        _path,
        _unserved,
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        include_in_schema=False,
        route_class_override=_UnservedRoute,
    )
