"""The OpenAPI document describes the answers the API really gives."""

from typing import Any

import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from db.pool import create_pool

PROBLEM = "application/problem+json"
PROBLEM_REF = "#/components/schemas/ProblemDetails"
VIEW_REF = "#/components/schemas/PathwayView"
REVOKE_LINKS = "/v1/pathways/{pathway_id}/revoke-links"  # a POST on a pathway that is not a step


@pytest.fixture
async def openapi(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.get("/openapi.json")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def _v1(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, o) for m, p, o in _operations(document) if p.startswith("/v1/")]


def _ref(response: dict[str, Any], content_type: str) -> str | None:
    schema: dict[str, Any] = response.get("content", {}).get(content_type, {}).get("schema", {})
    ref: str | None = schema.get("$ref")
    return ref


def test_every_v1_operation_documents_401_and_403(openapi: dict[str, Any]) -> None:
    missing = [f"{m} {p}: {s}" for m, p, o in _v1(openapi) for s in ("401", "403") if s not in o["responses"]]
    assert _v1(openapi) and missing == []


def test_every_v1_error_is_problem_json_of_problem_details(openapi: dict[str, Any]) -> None:
    wrong = [
        f"{m} {p} {status}: {response.get('content')}"
        for m, p, o in _v1(openapi)
        for status, response in o["responses"].items()
        if status[0] in "45"
        and (set(response.get("content", {})) != {PROBLEM} or _ref(response, PROBLEM) != PROBLEM_REF)
    ]
    assert wrong == []


def test_no_operation_documents_the_default_validation_error(openapi: dict[str, Any]) -> None:
    documented = [
        f"{m} {p} {status}"
        for m, p, o in _operations(openapi)
        for status, response in o["responses"].items()
        if "HTTPValidationError" in str(response)
    ]
    assert documented == []


def test_step_posts_document_404_409_422_and_503(openapi: dict[str, Any]) -> None:
    steps = [
        (p, o)
        for m, p, o in _v1(openapi)
        if m == "POST" and p.startswith("/v1/pathways/{pathway_id}/") and p != REVOKE_LINKS
    ]
    assert len(steps) == 15
    for path, operation in steps:
        assert {"200", "404", "409", "422", "503"} <= set(operation["responses"]), path
        assert _ref(operation["responses"]["200"], "application/json") == VIEW_REF, path


def test_revoke_links_documents_its_answer_404_422_and_503_and_the_idempotency_key(
    openapi: dict[str, Any],
) -> None:
    operation = openapi["paths"][REVOKE_LINKS]["post"]
    assert {"200", "401", "403", "404", "422", "503"} <= set(operation["responses"])
    assert "409" not in operation["responses"]  # a pathway's links can be revoked at any stage, or after
    assert _ref(operation["responses"]["200"], "application/json") == "#/components/schemas/LinksRevoked"
    answer = openapi["components"]["schemas"]["LinksRevoked"]
    assert set(answer["required"]) == {"pathway_id", "links_revoked"}
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert "Idempotency-Key" in headers


def test_referrals_document_201_and_200_with_the_pathway_view(openapi: dict[str, Any]) -> None:
    responses = openapi["paths"]["/v1/referrals"]["post"]["responses"]
    assert _ref(responses["201"], "application/json") == VIEW_REF
    assert _ref(responses["200"], "application/json") == VIEW_REF


async def test_readyz_documents_200_and_503_as_they_are_sent(
    openapi: dict[str, Any], database: str, temporal: Client
) -> None:
    responses = openapi["paths"]["/readyz"]["get"]["responses"]
    assert set(responses) == {"200", "413", "503"}  # 413: the body limit, on every route
    # The 503 is sent as the readiness report under the content type the document names.
    closed = await create_pool(database, max_size=1)
    await closed.close()
    app = create_app(Settings(), pool=closed, temporal=temporal)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as client:
        unready = await client.get("/readyz")
    assert unready.status_code == 503
    sent_as = unready.headers["content-type"]
    assert list(responses["503"]["content"]) == [sent_as]
    assert _ref(responses["503"], sent_as) == "#/components/schemas/Readiness"


def test_every_keyed_operation_documents_the_throttle_and_outages(openapi: dict[str, Any]) -> None:
    missing = [f"{m} {p}: {s}" for m, p, o in _v1(openapi) for s in ("429", "503") if s not in o["responses"]]
    assert missing == []


def test_every_operation_documents_413_whatever_its_method(openapi: dict[str, Any]) -> None:
    """The body limit applies before routing: a GET sent a large body answers 413 too."""
    missing = [f"{m} {p}" for m, p, o in _operations(openapi) if "413" not in o["responses"]]
    assert missing == []


def test_every_operation_with_a_body_documents_400_413_and_422(openapi: dict[str, Any]) -> None:
    with_body = [(m, p, o) for m, p, o in _operations(openapi) if "requestBody" in o]
    assert len(with_body) >= 12
    missing = [
        f"{m} {p}: {s}" for m, p, o in with_body for s in ("400", "413", "422") if s not in o["responses"]
    ]
    assert missing == []


def test_every_429_and_503_problem_documents_retry_after(openapi: dict[str, Any]) -> None:
    problems = [
        (f"{m} {p} {s}", o["responses"][s])
        for m, p, o in _v1(openapi)
        for s in ("429", "503")
        if PROBLEM in o["responses"][s].get("content", {})
    ]
    assert len(problems) == 2 * len(_v1(openapi))
    assert [where for where, r in problems if "Retry-After" not in r.get("headers", {})] == []
