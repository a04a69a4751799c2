"""Integration tests: the real Temporal dev server, embedded PostgreSQL, the real activities and the API."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.patient_links import PatientLinks
from activities.providers.base import OutboundMessage
from api.app import create_app
from config.binaries import installed_binary
from config.settings import Settings
from config.update_not_found import UpdateNotFoundRetries
from db.api_clients import ALL_SCOPES, upsert_client
from db.embedded import EmbeddedPostgres
from db.migrate import migrate
from db.pool import create_pool
from db.seed import seed_demo_clinic
from domain.notifications import Channel
from tests.codec_keys import TEST_DATA_CONVERTER
from tests.integration.chromium import LAUNCH_ARGS, chromium_executable, look_in_the_venv
from tests.integration.processes import free_port
from workers.worker import build_worker
from workflows.search_attributes import ALL

API_KEY = "dvr_integration-key-with-every-scope"
READ_ONLY_KEY = "dvr_integration-key-with-the-read-only-scope"
STAFF_EMAIL = "staff@clinic.example"
ON_CALL_PHONE = "+16025550199"  # the care team's urgent channel: red flags go here by SMS


class RecordingProvider:
    """Delivers nothing; remembers what it was handed, as a real SMS or e-mail gateway would receive it."""

    name = "recording"

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []
        self.holding: dict[str, asyncio.Event] = {}
        self.held: list[str] = []

    def hold(self, key_prefix: str) -> None:
        """Messages whose key starts with `key_prefix` wait until `release` (a gateway that hangs)."""
        self.holding[key_prefix] = asyncio.Event()

    def release(self, key_prefix: str) -> None:
        self.holding.pop(key_prefix).set()

    async def send(self, message: OutboundMessage) -> str:
        for prefix, released in list(self.holding.items()):
            if message.key.startswith(prefix):
                self.held.append(message.key)
                await released.wait()
        self.sent.append(message)
        return f"rec-{len(self.sent)}"

    async def find_sent(
        self, message: OutboundMessage, since: datetime, taken: frozenset[str] = frozenset()
    ) -> str | None:
        return None  # cannot tell: the message is handed over again


@pytest.fixture(scope="session")
async def database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    server = EmbeddedPostgres(Path(tmp_path_factory.mktemp("pg")) / "data")
    conn = await asyncpg.connect(server.url)
    try:
        await migrate(conn)
        await seed_demo_clinic(conn, profile="demo")
    finally:
        await conn.close()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database, max_size=10)
    await upsert_client(pool, "integration", API_KEY, ALL_SCOPES)
    await upsert_client(pool, "read-only", READ_ONLY_KEY, ("pathways:read",))
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def temporal() -> AsyncIterator[Client]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=installed_binary("temporal"),
        search_attributes=ALL,
        data_converter=TEST_DATA_CONVERTER,
        interceptors=[UpdateNotFoundRetries()],
    )
    yield env.client
    await env.shutdown()


@pytest.fixture(scope="session")
def provider() -> RecordingProvider:
    return RecordingProvider()


@pytest.fixture(scope="session")
def public_url() -> str:
    """Where the patients' links point: a free local port, on which tests/integration/pages.py serves the API
    to a real browser."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
async def worker(
    temporal: Client, pool: asyncpg.Pool, provider: RecordingProvider, public_url: str
) -> AsyncIterator[None]:
    async with build_worker(
        temporal,
        pool,
        provider=provider,
        staff_address=STAFF_EMAIL,
        staff_urgent=(Channel.SMS, ON_CALL_PHONE),
        links=PatientLinks(public_url, timedelta(days=30)),
    ):
        yield


@pytest.fixture
async def api(pool: asyncpg.Pool, temporal: Client, worker: None) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(profile="demo", update_timeout_seconds=20), pool=pool, temporal=temporal)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://api.test", headers={"Authorization": f"Bearer {API_KEY}"}
    ) as client:
        yield client


@pytest.fixture(scope="session")
async def served_api(
    pool: asyncpg.Pool, temporal: Client, worker: None, public_url: str
) -> AsyncIterator[str]:
    """The demo API served over HTTP at `public_url`, where the patients' links point, for a real browser."""
    settings = Settings(profile="demo", update_timeout_seconds=20, public_url=public_url)
    app = create_app(settings, pool=pool, temporal=temporal)
    port = int(public_url.rsplit(":", 1)[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the API did not start"
        await asyncio.sleep(0.05)
    yield public_url
    server.should_exit = True
    await serving


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium, driven by Playwright (tests/integration/chromium.py says which one)."""
    look_in_the_venv()
    async with async_playwright() as playwright:
        executable = chromium_executable(playwright.chromium.executable_path)
        chromium = await playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        yield chromium
        await chromium.close()
