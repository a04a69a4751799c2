"""Tracing is off unless an OTLP endpoint is configured; on, the API and the Temporal client are traced."""

import opentelemetry.trace
import pytest
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from temporalio.contrib.opentelemetry import TracingInterceptor

from api.app import create_app
from config.settings import Settings
from config.tracing import TracingSettingError, traces_endpoint, tracing_from_settings

OTEL_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_SDK_DISABLED",
    "OTEL_SERVICE_NAME",
)


@pytest.fixture(autouse=True)
def no_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in OTEL_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def test_off_by_default_no_provider_no_interceptor_no_instrumented_app() -> None:
    assert tracing_from_settings(Settings(), "dvr-api") is None
    app = create_app(Settings())
    assert getattr(app.state, "tracing", None) is None
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
    # Nothing installed a global tracer provider either: the API's default is still the no-op proxy.
    assert isinstance(opentelemetry.trace.get_tracer_provider(), opentelemetry.trace.ProxyTracerProvider)


def test_an_endpoint_turns_it_on_for_the_api_and_the_temporal_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.internal:4318/")
    settings = Settings()
    assert traces_endpoint(settings) == "http://collector.internal:4318/v1/traces"
    tracing = tracing_from_settings(settings, "dvr-worker")
    assert tracing is not None
    try:
        (interceptor,) = tracing.interceptors
        assert isinstance(interceptor, TracingInterceptor)
        assert isinstance(interceptor.text_map_propagator, TraceContextTextMapPropagator)  # no baggage
        assert tracing.provider.resource.attributes["service.name"] == "dvr-worker"
        app = create_app(settings)
        try:
            assert app.state.tracing is not None
            assert getattr(app, "_is_instrumented_by_opentelemetry", False)
        finally:
            FastAPIInstrumentor.uninstrument_app(app)
            app.state.tracing.shutdown()
    finally:
        tracing.shutdown()


def test_the_traces_endpoint_wins_and_is_taken_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://b.example/otlp/traces")
    assert traces_endpoint(Settings()) == "https://b.example/otlp/traces"


def test_disabled_by_the_sdk_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert tracing_from_settings(Settings(), "dvr-api") is None


def test_grpc_is_refused_rather_than_tracing_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4317")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    with pytest.raises(TracingSettingError, match="http/protobuf"):
        tracing_from_settings(Settings(), "dvr-api")
