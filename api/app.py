"""The FastAPI application. `create_app()` for tests (pass the pool and client); `app` for uvicorn."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import Depends, FastAPI
from temporalio.client import Client

from api.auth_throttle import AuthThrottle
from api.body_limit import BodyLimitMiddleware
from api.openapi import install_problem_openapi
from api.outages import install_outage_handlers
from api.problems import install_problem_handlers
from api.routes import (
    audit,
    check_ins,
    clinics,
    demo_outbox,
    health,
    link_consents,
    pathways,
    patient_page,
    patients,
    referrals,
    sms_inbound,
    sms_status,
    steps,
)
from api.strict_query import refuse_unknown_query
from config.settings import Settings
from config.temporal import connect
from db.pool import create_pool


def create_app(
    settings: Settings | None = None, *, pool: asyncpg.Pool | None = None, temporal: Client | None = None
) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if pool is not None and temporal is not None:
            yield  # given by the caller, already on app.state
            return
        owned_pool = None
        if pool is None:
            if settings.database_url is None:
                raise RuntimeError("DATABASE_URL is not set: the API needs the application database")
            owned_pool = await create_pool(settings.database_url)
        app.state.pool = pool or owned_pool
        app.state.temporal = temporal or await connect(settings.temporal_address, settings.temporal_namespace)
        app.state.settings = settings
        yield
        if owned_pool is not None:
            await owned_pool.close()

    app = FastAPI(
        title="DVR Pathway Orchestrator",
        version="1",
        summary="Runs every patient's Direct Visual Rhizotomy pathway as a durable workflow.",
        lifespan=lifespan,
        dependencies=[Depends(refuse_unknown_query)],  # a misspelt filter is an error, not ignored
    )
    if pool is not None and temporal is not None:
        app.state.pool, app.state.temporal, app.state.settings = pool, temporal, settings
    app.state.auth_throttle = AuthThrottle(
        allowed=settings.auth_failures_allowed, window=settings.auth_failure_window_seconds
    )
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    install_problem_handlers(app)
    install_outage_handlers(app)
    install_problem_openapi(app)
    for module in (
        health,
        referrals,
        pathways,
        steps,
        check_ins,
        patients,
        clinics,
        audit,
        sms_status,
        sms_inbound,
        patient_page,
        link_consents,
        demo_outbox,
    ):
        app.include_router(module.router)
    return app
