"""An API client whose key is limited to one clinic of its own, made for a test against the real API."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from db.api_clients import ALL_SCOPES, add_client, new_api_key


@asynccontextmanager
async def limited_api(
    pool: asyncpg.Pool, temporal: Client, label: str
) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    """(a new clinic's site, a client sending a key with every scope limited to that site)."""
    site = f"{label}-{uuid.uuid4().hex[:8]}"
    await pool.execute(
        "insert into clinics (site, name, timezone) values ($1, $2, 'America/Phoenix')", site, f"{label} test"
    )
    key = new_api_key()
    assert await add_client(pool, f"limited-{site}", key, ALL_SCOPES, [site])
    app = create_app(Settings(profile="demo", update_timeout_seconds=20), pool=pool, temporal=temporal)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://api.test",
        headers={"Authorization": f"Bearer {key}"},
    ) as client:
        yield site, client
