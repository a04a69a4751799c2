"""The OpenAPI document as the API answers: problem answers are `application/problem+json`, and every route
lists the statuses it can meet wherever they come from (middleware, authentication, handlers)."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.problems import MEANINGS, PROBLEM_JSON

# Answers every route of a kind can give, wherever they come from (middleware, authentication, handlers):
# a keyed route can meet the throttle and an outage; a route with a body can meet an
# unreadable body and a body that does not validate.
KEYED_STATUSES = (429, 503)
BODY_STATUSES = (400, 422)
# The body limit is checked before routing, on every request, whatever the method.
EVERY_ROUTE_STATUSES = (413,)
# Every 429 and 503 problem says when to try again.
RETRY_AFTER_HEADER = {
    "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}
}


def install_problem_openapi(app: FastAPI) -> None:
    """The OpenAPI document names problem answers `application/problem+json`, as they are sent, and lists the
    statuses every keyed route and every route with a body can answer."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            problem_ref = {"$ref": "#/components/schemas/ProblemDetails"}
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    responses = operation.setdefault("responses", {})
                    statuses = (
                        (KEYED_STATUSES if "401" in responses else ())
                        + (BODY_STATUSES if "requestBody" in operation else ())
                        + EVERY_ROUTE_STATUSES
                    )
                    for status in statuses:
                        responses.setdefault(
                            str(status),
                            {
                                "description": MEANINGS[status],
                                "content": {PROBLEM_JSON: {"schema": problem_ref}},
                            },
                        )
                    for status, response in operation.get("responses", {}).items():
                        content = response.get("content", {})
                        body = content.get("application/json", {}).get("schema", {})
                        if status[0] not in "45" or body.get("$ref", "").rsplit("/", 1)[-1] not in (
                            "ProblemDetails",
                            "HTTPValidationError",  # FastAPI's own 422: our handler answers a problem
                        ):
                            continue
                        del content["application/json"]
                        content[PROBLEM_JSON] = {"schema": problem_ref}
                        if status == "422":
                            response["description"] = MEANINGS[422]
                    for retried in ("429", "503"):
                        answer = responses.get(retried, {})
                        if PROBLEM_JSON in answer.get("content", {}):
                            answer["headers"] = RETRY_AFTER_HEADER
            for unused in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
