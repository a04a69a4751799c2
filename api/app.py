"""The FastAPI application. `create_app()` for tests (pass the pool and client); `app` for uvicorn."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import asyncpg
from fastapi import Depends, FastAPI
from prometheus_client import CollectorRegistry
from temporalio.client import Client

from api.auth import install_key_checks
from api.body_limit import BodyLimitMiddleware
from api.openapi import install_problem_openapi
from api.ops_metrics import OpsMetrics
from api.outages import install_outage_handlers
from api.problems import install_problem_handlers
from api.read_copy_retention import purging
from api.recent import Recent
from api.request_metrics import RequestMetrics, RequestMetricsMiddleware
from api.routes import (
    audit,
    check_ins,
    clinics,
    demo_outbox,
    fhir,
    health,
    link_consents,
    pathways,
    patient_links,
    patient_page,
    patients,
    referrals,
    sms_inbound,
    sms_status,
    steps,
    webhook_deliveries,
    webhooks,
)
from api.strict_query import refuse_unknown_query
from api.tracing import trace_requests
from config.metrics import serving_metrics
from config.settings import Settings
from config.temporal import connect
from config.temporal_runtime import temporal_runtime
from config.tracing import Tracing, tracing_from_settings
from db.pool import create_pool


def create_app(
    settings: Settings | None = None,
    *,
    pool: asyncpg.Pool | None = None,
    temporal: Client | None = None,
    tracing: Tracing | None = None,
) -> FastAPI:
    """The API. Tracing: `tracing` (tests), else as the settings configure it (config/tracing.py); a given
    `temporal` client brings its own interceptors."""
    settings = settings or Settings()
    tracing = tracing or tracing_from_settings(settings, "dvr-api")
    metrics = CollectorRegistry() if settings.api_metrics_port is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as running:
            if pool is None or temporal is None:  # else given by the caller, already on app.state
                owned_pool = None
                if pool is None:
                    if settings.database_url is None:
                        raise RuntimeError("DATABASE_URL is not set: the API needs the application database")
                    owned_pool = await create_pool(settings.database_url, max_size=settings.api_pool_size)
                    running.push_async_callback(owned_pool.close)
                app.state.pool = pool or owned_pool
                app.state.temporal = temporal or await connect(
                    settings,
                    runtime=temporal_runtime(),
                    interceptors=tracing.interceptors if tracing is not None else (),
                )
                app.state.settings = settings
            if metrics is not None and settings.api_metrics_port is not None:
                running.enter_context(
                    serving_metrics(metrics, settings.metrics_host, settings.api_metrics_port)
                )
                ops = OpsMetrics(metrics, app.state.pool, app.state.temporal)
                await running.enter_async_context(ops.recounting(settings.ops_metrics_interval_seconds))
            await running.enter_async_context(purging(app.state.temporal, app.state.pool))
            if tracing is not None:
                running.callback(tracing.shutdown)  # the last spans go out before the process ends
            yield

    app = FastAPI(
        title="DVR Pathway Orchestrator",
        version="1",
        summary="Runs every patient's Direct Visual Rhizotomy pathway as a durable workflow.",
        lifespan=lifespan,
        dependencies=[Depends(refuse_unknown_query)],  # a misspelt filter is an error, not ignored
    )
    if pool is not None and temporal is not None:
        app.state.pool, app.state.temporal, app.state.settings = pool, temporal, settings
    install_key_checks(app, settings)
    app.state.clinic_timezones = Recent[str, str](settings.api_key_cache_seconds)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    if metrics is not None:  # added last, so outermost: it counts the refusals of the middleware above too
        app.state.metrics = metrics
        app.add_middleware(
            RequestMetricsMiddleware, metrics=RequestMetrics(metrics), routes=app.router.routes
        )
    if tracing is not None:
        app.state.tracing = tracing
        trace_requests(app, tracing)
    install_problem_handlers(app)
    install_outage_handlers(app)
    install_problem_openapi(app)
    for module in (
        health,
        referrals,
        pathways,
        steps,
        check_ins,
        patient_links,
        patients,
        clinics,
        audit,
        sms_status,
        sms_inbound,
        patient_page,
        link_consents,
        demo_outbox,
        fhir,
        webhooks,
        webhook_deliveries,
    ):
        app.include_router(module.router)
    return app
