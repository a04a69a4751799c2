"""Liveness and readiness."""

import asyncio
from collections.abc import Awaitable
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.dependencies import Pool, TemporalClient

router = APIRouter(tags=["health"])

Check = Literal["ok", "unreachable"]


class Liveness(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, Check]


@router.get("/healthz", summary="The process is alive")
async def healthz() -> Liveness:
    return Liveness(status="ok")


@router.get(
    "/readyz",
    summary="Temporal and PostgreSQL are reachable (503 otherwise)",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A dependency is unreachable"}},
)
async def readyz(pool: Pool, client: TemporalClient) -> JSONResponse:
    checks = {
        "temporal": await _check(client.service_client.check_health()),
        "postgres": await _check(pool.fetchval("select 1")),
    }
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
    )


async def _check(probe: Awaitable[object]) -> Check:
    try:
        await asyncio.wait_for(probe, timeout=2)
    except Exception:
        return "unreachable"
    return "ok"
