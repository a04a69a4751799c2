"""The API's requests, counted by route template and status, and timed.

Labels are the route's template (`/v1/pathways/{pathway_id}`), never the path as sent: a pathway id or a
patient's link token in a label would make one series per pathway (and the token is the patient's
credential). A path no route matches is `unmatched`, and a method the API does not serve `other`, so
nobody can grow the series by sending made-up requests.
"""

from time import perf_counter

from fastapi.routing import iter_route_contexts
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    """`dvr_api_requests_total{method, route, status}` and `dvr_api_request_duration_seconds{method, route}`
    in `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "dvr_api_requests",
            "HTTP requests the API answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "dvr_api_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by method and route template.",
            ["method", "route"],
            registry=registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
        )


def route_template(routes: list[BaseRoute], scope: Scope) -> str:
    """The template of the route that takes this request (or has its path, for another method), else
    `unmatched`. Matched here rather than read from the scope after routing, so a request refused before
    it reaches its route (413, 429) still counts under it."""
    partial = None
    for route in iter_route_contexts(routes):  # the routes of included routers, with their full paths
        match, _ = route.matches(scope)
        if match == Match.FULL and route.path:
            return route.path
        if match == Match.PARTIAL and route.path and partial is None:
            partial = route.path
    return partial or UNMATCHED


class RequestMetricsMiddleware:
    """Pure ASGI (no buffering of bodies): times each HTTP request and counts it once answered. A request
    whose handler raised counts as the 500 it becomes."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics, routes: list[BaseRoute]) -> None:
        self.app, self.metrics, self.routes = app, metrics, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = perf_counter(), 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "other"
            route = route_template(self.routes, scope)
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.duration.labels(method, route).observe(perf_counter() - started)
