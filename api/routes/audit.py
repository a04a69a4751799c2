"""`GET /v1/audit?since=&until=`: the audit log of a period, for the clinic's records (scope `admin`).

The answer streams JSON lines (`application/x-ndjson`), one entry per line, oldest first, from one snapshot
of the log (db/audit.py). The export itself is audited first, with its period: who took the log out is in the
log. A period is at most 366 days (domain/audit_period.py); a longer span is several requests. A bound is an
instant with its offset (RFC 3339) or a date alone, which is 00:00 UTC, as with the command line.

The log spans every clinic (and entries such as key changes belong to none), so a key limited to clinic sites
may not export it: 403 `site-limited-key`.
"""

import json
import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BeforeValidator

from api.auth import require_scope
from api.dependencies import Pool
from api.instants import Instant
from api.problems import Problem, problem_responses
from api.site_access import Sites
from db import audit
from db.api_clients import ApiClient
from domain.audit_period import period_problem

router = APIRouter(tags=["audit"])
Admin = Annotated[ApiClient, Depends(require_scope("admin"))]
NDJSON = "application/x-ndjson"
_DATE_ALONE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_alone_is_midnight_utc(value: object) -> object:
    if isinstance(value, str) and _DATE_ALONE.fullmatch(value):
        return f"{value}T00:00:00Z"
    return value


# A date alone becomes midnight UTC first (the last validator runs first), then must read as an instant.
Bound = Annotated[Instant, BeforeValidator(_date_alone_is_midnight_utc)]


@router.get(
    "/v1/audit",
    summary="Export the audit log of a period (JSON lines)",
    description="Entries with `since <= at < until`, oldest first, one JSON object per line: `id`, `at`,"
    " `actor`, `action`, `patient_ref`, `pathway_id`, `detail`. At most 366 days per request. The export"
    " is itself audited (`audit.export`).",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The entries, one JSON object per line",
            "content": {NDJSON: {"schema": {"type": "string"}}},
        },
        **problem_responses(401, 403, 422, 503),
    },
)
async def export_audit(
    client: Admin,
    sites: Sites,
    pool: Pool,
    since: Annotated[
        Bound,
        Query(description="From this instant (RFC 3339, with an offset), or a date alone (00:00 UTC)"),
    ],
    until: Annotated[
        Bound, Query(description="Up to, not including, this instant, or a date alone (00:00 UTC)")
    ],
) -> StreamingResponse:
    if sites.sites is not None:
        raise Problem(
            403,
            "site-limited-key",
            "The audit log spans every clinic: a key limited to clinic sites cannot export it.",
        )
    problem = period_problem(since, until)
    if problem is not None:
        raise Problem(422, "invalid-period", problem)
    await audit.record(
        pool,
        actor=client.name,
        action="audit.export",
        detail={"via": "GET /v1/audit", "since": since.isoformat(), "until": until.isoformat()},
    )

    async def lines() -> AsyncIterator[str]:
        async with pool.acquire() as conn:
            async for entry in audit.entries_between(conn, since, until):
                yield json.dumps(entry.as_json(), ensure_ascii=False, separators=(",", ":")) + "\n"

    return StreamingResponse(lines(), media_type=NDJSON, headers={"Cache-Control": "no-store"})
