"""Only allowlisted attributes leave in a span; an error keeps its type, not its message."""

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from config.tracing import tracing_to

PHI = "Ada Example"
TOKEN = "k3J9vQm2xYz8wPq4rTs6uVb1nCd5eFg7hAi0jKl2mNo"


def test_a_span_leaves_with_the_allowlisted_attributes_only() -> None:
    exported = InMemorySpanExporter()
    tracing = tracing_to(exported, "test", batched=False)
    tracer = tracing.provider.get_tracer("test")
    with tracer.start_as_current_span(
        "GET /p/{token}",
        kind=SpanKind.SERVER,
        attributes={
            "http.method": "GET",
            "http.route": "/p/{token}",
            "http.status_code": 500,
            "http.target": f"/p/{TOKEN}?name={PHI}",
            "http.url": f"https://dvr.clinic.example/p/{TOKEN}",
            "net.peer.ip": "203.0.113.7",
            "http.user_agent": "Mozilla/5.0 (iPhone)",
            "temporalWorkflowID": "pathway-1",
            "temporalUpdateID": f"key-{PHI}",
        },
    ) as span:
        span.record_exception(ValueError(f"no patient named {PHI}"))
        span.set_status(Status(StatusCode.ERROR, f"ValueError: no patient named {PHI}"))
    tracing.shutdown()

    (sent,) = exported.get_finished_spans()
    assert dict(sent.attributes or {}) == {
        "http.method": "GET",
        "http.route": "/p/{token}",
        "http.status_code": 500,
        "temporalWorkflowID": "pathway-1",
    }
    (event,) = sent.events
    assert event.name == "exception" and dict(event.attributes or {}) == {"exception.type": "ValueError"}
    assert sent.status.status_code == StatusCode.ERROR and sent.status.description == "ValueError"
    everything = repr(
        (sent.name, sent.attributes, [(e.name, e.attributes) for e in sent.events], sent.status)
    )
    assert PHI not in everything and TOKEN not in everything and "203.0.113.7" not in everything
