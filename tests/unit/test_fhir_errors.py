"""Under /fhir, an outage or an unexpected error is answered as the JSON API answers it (503 with Retry-After,
or a 500 logged by type and route), but as an OperationOutcome: every answer under /fhir is FHIR."""

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs
from temporalio.service import RPCError, RPCStatusCode

from api.outages import install_outage_handlers
from api.problems import install_problem_handlers
from api.routes import fhir
from tests.fhir_checks import validated


def _app_raising(error: Exception, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    def _raise(date: str) -> None:
        raise error

    monkeypatch.setattr(fhir, "capability_statement", _raise)
    app = FastAPI()
    install_problem_handlers(app)
    install_outage_handlers(app)
    app.include_router(fhir.router)
    return app


async def _get(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        return await client.get("/fhir/metadata")


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        RPCError("Timeout expired", RPCStatusCode.UNAVAILABLE, b""),
    ],
)
async def test_an_outage_is_a_503_operation_outcome_with_retry_after(
    error: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = await _get(_app_raising(error, monkeypatch))
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.headers["content-type"] == "application/fhir+json"
    assert validated(answer.json())["issue"][0]["code"] == "transient"


async def test_an_unexpected_error_is_a_logged_500_operation_outcome_without_its_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with capture_logs() as logs:
        answer = await _get(_app_raising(ValueError("Ada Example, +16025550100"), monkeypatch))
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/fhir+json"
    assert validated(answer.json())["issue"][0]["code"] == "exception"
    assert "Ada" not in answer.text
    assert [(log["event"], log["error"], log["route"]) for log in logs] == [
        ("api.unexpected_error", "ValueError", "/fhir/metadata")
    ]
