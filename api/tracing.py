"""The API's requests as spans (OpenTelemetry's FastAPI instrumentation), when tracing is on.

Each request's span is named by method and route template; what it carries out is cut to the allowlist of
config/span_scrubbing.py, so neither the path as sent (a patient's link token), the query, the client's
address nor an error's message leaves. Liveness and readiness probes are not traced (one span every few
seconds for nothing), nor each body chunk received or sent.

A caller's `traceparent` is taken (a fixed format: ids and flags), its `baggage` and `tracestate` are not:
they are free text any caller writes, and the trace context goes on into each workflow's headers. They are
dropped from the request before the instrumentation reads it.
"""

import types
from collections.abc import Callable

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.metrics import NoOpMeterProvider
from starlette.types import ASGIApp, Receive, Scope, Send

from config.tracing import Tracing

UNTRACED_PATHS = "/healthz$,/readyz$"
UNTAKEN_HEADERS = frozenset({b"baggage", b"tracestate"})


class DropUntakenTraceHeaders:
    """Takes a request's `baggage` and `tracestate` headers away before anything inside reads them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = scope.get("headers", [])
            if any(name.lower() in UNTAKEN_HEADERS for name, _ in headers):
                scope = dict(scope)
                scope["headers"] = [(n, v) for n, v in headers if n.lower() not in UNTAKEN_HEADERS]
        await self.app(scope, receive, send)


def trace_requests(app: FastAPI, tracing: Tracing) -> None:
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=tracing.provider,
        meter_provider=NoOpMeterProvider(),  # the request metrics are Prometheus's (api/request_metrics.py)
        excluded_urls=UNTRACED_PATHS,
        exclude_spans=["receive", "send"],
    )
    instrumented: Callable[[], ASGIApp] = app.build_middleware_stack

    def build_middleware_stack(self: FastAPI) -> ASGIApp:
        return DropUntakenTraceHeaders(instrumented())

    # FastAPIInstrumentor.uninstrument_app puts the original back, this included
    app.build_middleware_stack = types.MethodType(build_middleware_stack, app)  # type: ignore[method-assign]
