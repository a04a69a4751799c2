"""Traces, on with an in-memory exporter: an API request's span with the workflow start under it, and a
worker's workflow and activity spans in the same trace as the client's start. No span carries PHI, and
neither does the trace context the workflows' headers carry: a caller's baggage is not taken, and the
headers go through the codec like every other payload."""

import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.worker import Worker

from api.app import create_app
from config.payload_codec import ENCODING
from config.settings import Settings
from config.span_scrubbing import ALLOWED_ATTRIBUTES
from config.temporal import connect
from config.tracing import Tracing, tracing_to
from tests.codec_keys import with_test_keys
from tests.integration.conftest import API_KEY
from tests.integration.polling import next_action_is, poll_view
from tests.integration.test_history_encryption import application_payloads, every_run
from tests.integration.traced_workflow import TracedGreeting, greet
from tests.referrals import referral_body
from workflows.registry import workflow_runner


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracing(spans: InMemorySpanExporter) -> Iterator[Tracing]:
    tracing = tracing_to(spans, "dvr-test", batched=False)
    yield tracing
    tracing.shutdown()


@pytest.fixture
async def traced_client(temporal: Client, tracing: Tracing) -> Client:
    """A client of the test dev server with the tracing interceptor, as `connect` makes it with tracing on."""
    return await connect(
        with_test_keys(temporal.service_client.config.target_host, temporal.namespace),
        interceptors=tracing.interceptors,
    )


@pytest.fixture
async def traced_api(
    pool: asyncpg.Pool, traced_client: Client, tracing: Tracing, worker: None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        Settings(profile="demo", update_timeout_seconds=20),
        pool=pool,
        temporal=traced_client,
        tracing=tracing,
    )
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://api.test",
            headers={"Authorization": f"Bearer {API_KEY}"},
        ) as client:
            yield client
    finally:
        FastAPIInstrumentor.uninstrument_app(app)


def named(spans: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in spans.get_finished_spans() if span.name == name]


def headers_in(runs: list[list[HistoryEvent]]) -> list[Payload]:
    return [
        payload
        for events in runs
        for event in events
        for payload in application_payloads(event)
        if payload.metadata.get("encoding") != ENCODING
    ]


def carries_only_allowed(span: ReadableSpan) -> None:
    assert set(span.attributes or {}) <= ALLOWED_ATTRIBUTES, span.attributes
    for event in span.events:
        assert set(event.attributes or {}) <= {"exception.type"}, event.attributes


async def test_an_api_request_and_the_workflow_start_under_it(
    traced_api: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    body = referral_body(f"REF-TRACE-{uuid.uuid4().hex[:10]}")
    body["patient"]["family_name"] = canary = f"Tracecanary{uuid.uuid4().hex[:8]}"
    created = await traced_api.post("/v1/referrals", json=body)
    assert created.status_code == 201, created.text
    pathway_id = created.json()["pathway_id"]
    await poll_view(traced_api, pathway_id, "mri review due", next_action_is("mri_review"))

    (request,) = named(spans, "POST /v1/referrals")
    assert request.kind == SpanKind.SERVER
    assert request.attributes is not None
    assert request.attributes["http.route"] == "/v1/referrals"
    assert request.attributes["http.status_code"] == 201
    starts = [s for s in spans.get_finished_spans() if s.name.endswith(":PatientPathway")]
    assert starts, [s.name for s in spans.get_finished_spans()]
    start = starts[0]
    assert start.name.startswith("StartWorkflow:"), start.name
    assert start.kind == SpanKind.CLIENT
    assert start.attributes is not None and start.attributes["temporalWorkflowID"] == pathway_id
    assert start.parent is not None and request.context is not None
    assert start.parent.span_id == request.context.span_id
    assert start.context is not None and start.context.trace_id == request.context.trace_id

    reads = named(spans, "GET /v1/pathways/{pathway_id}")
    assert reads and all(
        s.attributes and s.attributes["http.route"] == "/v1/pathways/{pathway_id}" for s in reads
    )
    assert named(spans, "QueryWorkflow:versioned_view"), [s.name for s in spans.get_finished_spans()]
    for span in spans.get_finished_spans():
        carries_only_allowed(span)
        assert canary not in repr((span.name, span.attributes, span.events, span.status.description))


async def test_the_worker_traces_the_workflow_and_its_activity_in_the_clients_trace(
    traced_client: Client, spans: InMemorySpanExporter
) -> None:
    task_queue = f"traced-{uuid.uuid4().hex[:8]}"
    workflow_id = f"traced-{uuid.uuid4()}"
    async with Worker(
        traced_client,
        task_queue=task_queue,
        workflows=[TracedGreeting],
        activities=[greet],
        workflow_runner=workflow_runner(),  # the worker's own sandbox
    ):
        answer = await traced_client.execute_workflow(
            TracedGreeting.run, "Ada", id=workflow_id, task_queue=task_queue
        )
    assert answer == "hello Ada"
    wanted = [
        "StartWorkflow:TracedGreeting",
        "RunWorkflow:TracedGreeting",
        "StartActivity:greet",
        "RunActivity:greet",
    ]
    found = {name: named(spans, name) for name in wanted}
    assert all(found.values()), {name: len(s) for name, s in found.items()}
    traces = {span.context.trace_id for spans_ in found.values() for span in spans_ if span.context}
    assert len(traces) == 1, "the worker's spans are not in the client's trace"
    for span in spans.get_finished_spans():
        carries_only_allowed(span)
    # the trace context in the start's, the activity's headers is encrypted like any payload
    runs = await every_run(traced_client, workflow_id)
    assert headers_in(runs) == []


async def test_a_callers_baggage_and_trace_state_stay_out_of_the_history(
    traced_api: httpx.AsyncClient, traced_client: Client, spans: InMemorySpanExporter
) -> None:
    canary = f"Baggagecanary{uuid.uuid4().hex[:8]}"
    body = referral_body(f"REF-BAGGAGE-{uuid.uuid4().hex[:10]}")
    created = await traced_api.post(
        "/v1/referrals",
        json=body,
        headers={
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "tracestate": f"vendor={canary}",
            "baggage": f"patient.mrn={canary}",
        },
    )
    assert created.status_code == 201, created.text
    pathway_id = created.json()["pathway_id"]
    await poll_view(traced_api, pathway_id, "mri review due", next_action_is("mri_review"))

    runs = await every_run(traced_client, pathway_id)
    raw = b"".join(event.SerializeToString() for events in runs for event in events)
    assert canary.encode() not in raw
    assert b"_tracer-data" in raw, "the start carries no trace context: the test proves nothing"
    assert headers_in(runs) == [], "a payload in the raw history is not encrypted"
    (request,) = named(spans, "POST /v1/referrals")
    assert request.context is not None
    assert f"{request.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"  # traceparent is kept
