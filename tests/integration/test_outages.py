"""During an outage every route tells the truth: 503 application/problem+json with Retry-After, never 500.

Each outage is real and private to its test: a PostgreSQL server of its own that is stopped, and a Temporal
dev server of its own that is shut down; the session's servers are not touched.
"""

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from config.binaries import installed_binary
from config.settings import Settings
from db.api_clients import ALL_SCOPES, upsert_client
from db.embedded import EmbeddedPostgres
from db.migrate import migrate
from db.patient_links import link_for_pathway
from db.pool import create_pool
from db.seed import seed_demo_clinic
from tests.codec_keys import TEST_DATA_CONVERTER
from tests.integration.conftest import API_KEY
from tests.referrals import referral_body
from workflows.search_attributes import ALL

PATHWAY = "/v1/pathways/pathway-00000000-0000-5000-8000-000000000000"
# Every keyed route, with a body that passes validation, so the outage is what answers.
KEYED_ROUTES: list[tuple[str, str, object]] = [
    ("POST", "/v1/referrals", referral_body("REF-OUTAGE")),
    ("GET", PATHWAY, None),
    ("GET", "/v1/pathways", None),
    (
        "POST",
        f"{PATHWAY}/screening-review",
        {"proceed": True, "reason": "reviewed", "reviewed_by": "Dr. Lee"},
    ),
    ("POST", f"{PATHWAY}/mri-review", {"facet_swelling": True, "reviewed_by": "Dr. Lee"}),
    ("POST", f"{PATHWAY}/exam", {"palpation_concordant": True, "examined_by": "Dr. Lee"}),
    (
        "POST",
        f"{PATHWAY}/block",
        {
            "anesthetic": "lidocaine",
            "levels": ["L4-L5"],
            "side": "left",
            "baseline_pain": 7,
            "performed_by": "Dr. L",
        },
    ),
    ("POST", f"{PATHWAY}/pain-reports", {"pain": 3}),
    ("POST", f"{PATHWAY}/candidacy-decision", {"approved": False, "decided_by": "Dr. Lee"}),
    ("POST", f"{PATHWAY}/procedure", {"status": "cancelled", "performed_by": "Dr. Lee"}),
    ("POST", f"{PATHWAY}/follow-up", {"pain": 2}),
    ("POST", f"{PATHWAY}/withdraw", {"reason": "moved away"}),
    ("POST", f"{PATHWAY}/retry-booking", {"requested_by": "Front desk"}),
    (
        "POST",
        f"{PATHWAY}/resolve-attention",
        {"reason": "red_flags", "note": "called the patient", "resolved_by": "Nurse Kim"},
    ),
    ("POST", f"{PATHWAY}/appointments/appt-1/status", {"status": "arrived"}),
]
# Keyed routes that ask only PostgreSQL: with Temporal down they still answer (see below).
DATABASE_ROUTES: list[tuple[str, str, object]] = [
    ("POST", f"{PATHWAY}/revoke-links", {"requested_by": "Front desk"}),
]


@pytest.fixture
async def stopped_database(tmp_path: Path) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a PostgreSQL server of this test's own, with the key installed, after the server stopped."""
    server = EmbeddedPostgres(tmp_path / "pg")
    pool = await create_pool(server.url, max_size=2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
            await seed_demo_clinic(conn, profile="demo")
            await upsert_client(conn, "integration", API_KEY, ALL_SCOPES)
        server.stop()
        yield pool
    finally:
        server.stop()
        pool.terminate()


@pytest.fixture
async def stopped_temporal() -> Client:
    """A client of a Temporal dev server of this test's own, after the server was shut down."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=installed_binary("temporal"),
        search_attributes=ALL,
        data_converter=TEST_DATA_CONVERTER,
    )
    await env.shutdown()
    return env.client


async def answers(
    app_pool: asyncpg.Pool, client: Client, routes: list[tuple[str, str, object]] = KEYED_ROUTES
) -> list[tuple[str, httpx.Response]]:
    app = create_app(Settings(update_timeout_seconds=20), pool=app_pool, temporal=client)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://api.test",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as api:
        sent = [api.request(method, url, json=body) for method, url, body in routes]
        responses = await asyncio.gather(*sent)
        readiness = await api.get("/readyz")
    assert readiness.status_code == 503
    return [(f"{m} {u}", r) for (m, u, _), r in zip(routes, responses, strict=True)]


def untruthful(answered: list[tuple[str, httpx.Response]], problem_type: str) -> list[str]:
    return [
        f"{route}: {r.status_code} {r.headers.get('content-type')} {r.text[:200]}"
        for route, r in answered
        if r.status_code != 503
        or r.headers.get("content-type") != "application/problem+json"
        or "retry-after" not in r.headers
        or r.json()["type"] != problem_type
    ]


async def test_with_postgresql_down_every_route_answers_503(
    stopped_database: asyncpg.Pool, temporal: Client
) -> None:
    answered = await answers(stopped_database, temporal, KEYED_ROUTES + DATABASE_ROUTES)
    assert untruthful(answered, "/problems/database-unavailable") == []


async def test_with_temporal_down_every_route_answers_503(
    pool: asyncpg.Pool, stopped_temporal: Client
) -> None:
    assert untruthful(await answers(pool, stopped_temporal), "/problems/temporal-unavailable") == []


async def test_with_temporal_down_a_pathways_links_are_still_revoked(
    api: httpx.AsyncClient, pool: asyncpg.Pool, stopped_temporal: Client
) -> None:
    """A lost phone cannot wait for Temporal: the revocation asks only PostgreSQL."""
    created = await api.post("/v1/referrals", json=referral_body("REF-OUTAGE-REVOKE"))
    assert created.status_code == 201, created.text
    pathway_id, patient_ref = created.json()["pathway_id"], created.json()["patient_ref"]
    await link_for_pathway(pool, pathway_id, patient_ref, timedelta(days=1))
    app = create_app(Settings(), pool=pool, temporal=stopped_temporal)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://api.test",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as down:
        revoked = await down.post(
            f"/v1/pathways/{pathway_id}/revoke-links", json={"requested_by": "Front desk"}
        )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json() == {"pathway_id": pathway_id, "links_revoked": 1}


async def test_a_junk_page_token_is_422_without_asking_temporal(
    pool: asyncpg.Pool, stopped_temporal: Client
) -> None:
    # Temporal is down: a token that were sent on to it would be answered 503 after its retries.
    app = create_app(Settings(), pool=pool, temporal=stopped_temporal)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://api.test",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as api:
        response = await api.get("/v1/pathways", params={"page_token": "bm90LWEtdG9rZW4="})
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "/problems/invalid-page-token"


@pytest.fixture
async def hung_database(tmp_path: Path) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a PostgreSQL server of this test's own, whose processes are frozen (SIGSTOP): it accepts
    nothing and answers nothing, as a hung host would."""
    server = EmbeddedPostgres(tmp_path / "pg")
    pool = await create_pool(server.url, max_size=2, command_timeout=1.0)
    frozen: list[psutil.Process] = []
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
            await seed_demo_clinic(conn, profile="demo")
            await upsert_client(conn, "integration", API_KEY, ALL_SCOPES)
        assert server.pid is not None
        postmaster = psutil.Process(server.pid)
        frozen = [postmaster, *postmaster.children(recursive=True)]
        for process in frozen:
            os.kill(process.pid, signal.SIGSTOP)
        yield pool
    finally:
        for process in frozen:
            os.kill(process.pid, signal.SIGCONT)
        pool.terminate()
        server.stop()


async def test_a_hung_database_is_503_not_a_request_that_never_ends(
    hung_database: asyncpg.Pool, temporal: Client
) -> None:
    app = create_app(Settings(profile="demo"), pool=hung_database, temporal=temporal)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test", headers=headers) as api:
        # Bounded by the test, not by the API: a request that never ends fails here instead of hanging.
        answer = await asyncio.wait_for(api.get(PATHWAY), timeout=30)
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "5"
    assert answer.json()["type"] == "/problems/database-unavailable"
