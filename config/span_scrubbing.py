"""What a span may carry out of the process: an allowlist, applied to every span before it is exported.

Instrumentation records more than we want to ship: the ASGI middleware puts the path as sent (a patient's
link token is in the path of their page), the query string, the client's address and user agent on each
request's span; an error's status and event carry its message (which may quote request data); Temporal's
interceptor names the update id, which a client chooses (our Idempotency-Key). So only the attributes listed
here leave: the method, the route template, the status code, the workflow, run and activity ids (opaque,
DESIGN.md §4). An error keeps its type, never its message or stack trace. Span names are kept: the HTTP
instrumentation names a span by method and route template, Temporal's by operation and workflow or
activity type.
"""

import re
from collections.abc import Sequence

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Status
from opentelemetry.util.types import Attributes, AttributeValue

ALLOWED_ATTRIBUTES = frozenset(
    {
        # HTTP (the FastAPI instrumentation, both the old and the stable semantic conventions)
        "http.method",
        "http.request.method",
        "http.route",
        "http.status_code",
        "http.response.status_code",
        "http.scheme",
        "url.scheme",
        "http.flavor",
        "network.protocol.version",
        "error.type",
        # Temporal (temporalio.contrib.opentelemetry.TracingInterceptor)
        "temporalWorkflowID",
        "temporalRunID",
        "temporalActivityID",
        # An exception event's type
        "exception.type",
    }
)
_ERROR_TYPE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*")


def allowed(attributes: Attributes) -> dict[str, AttributeValue]:
    return {key: value for key, value in (attributes or {}).items() if key in ALLOWED_ATTRIBUTES}


def error_type_only(status: Status) -> Status:
    """The status with its description cut to the error's type (both instrumentations write
    `Type: message`)."""
    if not status.description:
        return status
    found = _ERROR_TYPE.match(status.description)
    return Status(status.status_code, found.group(0) if found else None)


def scrubbed(span: ReadableSpan) -> ReadableSpan:
    """A copy of `span` with only the allowed attributes, on the span, its events and its links."""
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=allowed(span.attributes),
        events=[Event(event.name, allowed(event.attributes), event.timestamp) for event in span.events],
        links=[Link(link.context) for link in span.links],
        kind=span.kind,
        status=error_type_only(span.status),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class ScrubbingSpanExporter(SpanExporter):
    """Hands `exporter` the scrubbed copy of each span."""

    def __init__(self, exporter: SpanExporter) -> None:
        self._exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._exporter.export([scrubbed(span) for span in spans])

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._exporter.force_flush(timeout_millis)
