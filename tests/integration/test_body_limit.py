"""Request bodies over the limit are refused with 413 before they are read, and before authentication.

The app under test has a closed pool: a request that reached authentication would be answered 503 (the
database is unreachable), so a 413 shows the body was refused first.
"""

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from db.pool import create_pool
from tests.integration.conftest import API_KEY

LIMIT = 1024
URL = "/v1/pathways/pathway-00000000-0000-5000-8000-000000000000/withdraw"


@pytest.fixture
async def closed_pool(database: str) -> asyncpg.Pool:
    pool = await create_pool(database, max_size=1)
    await pool.close()
    return pool


@pytest.fixture
async def small_limit_api(closed_pool: asyncpg.Pool, temporal: Client) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(max_body_bytes=LIMIT), pool=closed_pool, temporal=temporal)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://api.test",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as client:
        yield client


async def chunks(total: int, size: int = 256) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


def assert_413(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/problems/payload-too-large" and body["status"] == 413


async def test_a_declared_length_over_the_limit_is_413(small_limit_api: httpx.AsyncClient) -> None:
    assert_413(await small_limit_api.post(URL, content=b"x" * (LIMIT + 1)))


async def test_no_key_and_over_the_limit_is_413_not_401(small_limit_api: httpx.AsyncClient) -> None:
    assert_413(await small_limit_api.post(URL, content=b"x" * (LIMIT + 1), headers={"Authorization": ""}))


async def test_a_chunked_body_over_the_limit_is_413(small_limit_api: httpx.AsyncClient) -> None:
    request = small_limit_api.build_request("POST", URL, content=chunks(LIMIT * 4))
    assert "content-length" not in request.headers
    assert_413(await small_limit_api.send(request))


async def test_a_body_within_the_limit_is_read(small_limit_api: httpx.AsyncClient) -> None:
    # Chunked and within the limit: read, and then authentication meets the closed pool.
    request = small_limit_api.build_request("POST", URL, content=chunks(LIMIT))
    assert "content-length" not in request.headers
    within = await small_limit_api.send(request)
    assert within.status_code == 503, within.text
    assert (await small_limit_api.post(URL, json={"reason": "moved"})).status_code == 503


async def test_the_default_limit_is_256_kib(api: httpx.AsyncClient) -> None:
    assert Settings().max_body_bytes == 256 * 1024
    assert_413(await api.post("/v1/referrals", content=b"x" * (256 * 1024 + 1)))
    fits = await api.post("/v1/referrals", content=b"x" * (256 * 1024))
    assert fits.status_code == 422, fits.text
