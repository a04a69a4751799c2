"""The API's requests as spans (OpenTelemetry's FastAPI instrumentation), when tracing is on.

Each request's span is named by method and route template; what it carries out is cut to the allowlist of
config/span_scrubbing.py, so neither the path as sent (a patient's link token), the query, the client's
address nor an error's message leaves. Liveness and readiness probes are not traced (one span every few
seconds for nothing), nor each body chunk received or sent.
"""

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.metrics import NoOpMeterProvider

from config.tracing import Tracing

UNTRACED_PATHS = "/healthz$,/readyz$"


def trace_requests(app: FastAPI, tracing: Tracing) -> None:
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=tracing.provider,
        meter_provider=NoOpMeterProvider(),  # the request metrics are Prometheus's (api/request_metrics.py)
        excluded_urls=UNTRACED_PATHS,
        exclude_spans=["receive", "send"],
    )
