"""Requests are counted by route template, never by the path as sent, and the label values stay bounded."""

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, generate_latest

from api.request_metrics import RequestMetrics, RequestMetricsMiddleware


def app_with_metrics() -> tuple[FastAPI, CollectorRegistry]:
    app = FastAPI()
    registry = CollectorRegistry()

    @app.get("/v1/pathways/{pathway_id}")
    async def pathway(pathway_id: str) -> JSONResponse:
        return JSONResponse({"id": pathway_id}, status_code=200 if pathway_id.startswith("pathway-") else 404)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a failure whose message may carry request data")

    app.add_middleware(RequestMetricsMiddleware, metrics=RequestMetrics(registry), routes=app.router.routes)
    return app, registry


def count(registry: CollectorRegistry, method: str, route: str, status: str) -> float | None:
    labels = {"method": method, "route": route, "status": status}
    return registry.get_sample_value("dvr_api_requests_total", labels)


async def test_requests_are_counted_under_their_route_template_and_status() -> None:
    app, registry = app_with_metrics()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as api:
        for pathway_id in ("pathway-1", "pathway-2", "nope"):
            await api.get(f"/v1/pathways/{pathway_id}")
        await api.post("/v1/pathways/pathway-1")  # the path exists, not for this method
        await api.get("/made/up/path-with-an-id-123")
        await api.request("BREW", "/v1/pathways/pathway-1")
        await api.get("/boom")

    route = "/v1/pathways/{pathway_id}"
    assert count(registry, "GET", route, "200") == 2
    assert count(registry, "GET", route, "404") == 1
    assert count(registry, "POST", route, "405") == 1
    assert count(registry, "GET", "unmatched", "404") == 1
    assert count(registry, "other", route, "405") == 1
    assert count(registry, "GET", "/boom", "500") == 1
    labels = {"method": "GET", "route": route}
    assert registry.get_sample_value("dvr_api_request_duration_seconds_count", labels) == 3
    exposed = generate_latest(registry).decode()
    for sent in ("pathway-1", "pathway-2", "nope", "path-with-an-id-123", "BREW"):
        assert sent not in exposed
