"""OpenTelemetry tracing: off unless an OTLP endpoint is configured, then on the API and the worker alike.

On, a process gets a tracer provider of its own (never the global one: nothing else in the process picks it
up by accident) whose spans go through the allowlist of config/span_scrubbing.py, then in batches to the
OTLP/HTTP endpoint of `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`.
The exporter reads the other standard variables itself (`OTEL_EXPORTER_OTLP_HEADERS`, certificates,
timeout), the SDK the sampler (`OTEL_TRACES_SAMPLER`) and resource (`OTEL_RESOURCE_ATTRIBUTES`);
`OTEL_SERVICE_NAME` names the service (`dvr-api`, `dvr-worker` otherwise). Only the HTTP protocol is
shipped: a process asked for gRPC refuses to start rather than trace nothing.

Temporal's TracingInterceptor goes on the client, so the API's starts, updates and queries get spans under
the request's, their context travels in the workflow's headers, and the worker (whose client has it too)
adds the workflow's, its activities' and child workflows' spans to the same trace. It records workflow spans
only under a client span, so histories replay unchanged (tests/workflows/test_replay.py replays with it).
It propagates the W3C trace context alone (`traceparent`, `tracestate`), never baggage (the SDK's default
sends both): baggage is free text that would be written into each workflow's headers, and the client
encodes those headers with the payload codec (config/temporal.py) so what is there is encrypted too.
"""

import os
from dataclasses import dataclass, field

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.worker import WorkflowInboundInterceptor, WorkflowInterceptorClassInput

from config.settings import Settings
from config.span_scrubbing import ScrubbingSpanExporter

TRACER_NAME = "dvr-pathway-orchestrator"
_PROTOCOL_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")


class TracingSettingError(ValueError):
    """A tracing setting this build cannot honour."""


TRACE_CONTEXT_ONLY = TraceContextTextMapPropagator()


class TraceContextWorkflowInterceptor(TracingWorkflowInboundInterceptor):
    """The SDK's workflow side of tracing, propagating the trace context alone (no baggage)."""

    def __init__(self, next: WorkflowInboundInterceptor) -> None:
        super().__init__(next)
        self.text_map_propagator = TRACE_CONTEXT_ONLY


class TraceContextInterceptor(TracingInterceptor):
    """The SDK's TracingInterceptor, propagating the trace context alone (no baggage): the SDK takes its
    propagator by subclassing only, on the client and the workflow side alike."""

    def __init__(self, tracer: Tracer | None = None) -> None:
        super().__init__(tracer)
        self.text_map_propagator = TRACE_CONTEXT_ONLY

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the SDK's extern functions
        return TraceContextWorkflowInterceptor


@dataclass(frozen=True)
class Tracing:
    provider: TracerProvider
    interceptors: list[TracingInterceptor] = field(default_factory=list)
    """For the Temporal client (config/temporal.py `connect`), whose workers take them too; a replayer takes
    them as they are."""

    def shutdown(self) -> None:
        """Sends the spans still buffered, then stops."""
        self.provider.shutdown()


def tracing_to(exporter: SpanExporter, service: str, *, batched: bool = True) -> Tracing:
    """Tracing whose scrubbed spans go to `exporter` (batched, or each as it ends)."""
    resource = Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME") or service})
    provider = TracerProvider(resource=resource)
    scrubbing = ScrubbingSpanExporter(exporter)
    provider.add_span_processor(BatchSpanProcessor(scrubbing) if batched else SimpleSpanProcessor(scrubbing))
    return Tracing(provider, [TraceContextInterceptor(provider.get_tracer(TRACER_NAME))])


def traces_endpoint(settings: Settings) -> str | None:
    """Where spans go, by the OpenTelemetry variables' rules; None: tracing is off."""
    if settings.otel_exporter_otlp_traces_endpoint:
        return settings.otel_exporter_otlp_traces_endpoint
    if settings.otel_exporter_otlp_endpoint:
        return settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
    return None


def tracing_from_settings(settings: Settings, service: str) -> Tracing | None:
    """The process's tracing, or None when no endpoint is configured (or `OTEL_SDK_DISABLED` is true)."""
    endpoint = traces_endpoint(settings)
    if endpoint is None or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    for variable in _PROTOCOL_VARIABLES:
        protocol = os.environ.get(variable)
        if protocol and protocol != "http/protobuf":
            raise TracingSettingError(
                f"{variable} is {protocol}: this build exports traces over http/protobuf"
            )
    return tracing_to(OTLPSpanExporter(endpoint=endpoint), service)
