"""The whole API on a real port, for tools that call it over HTTP from synchronous code (schemathesis).

Everything the API needs runs on an event loop of its own, in a thread of its own: a Temporal dev server of
its own, a worker, an asyncpg pool on the session's PostgreSQL, and uvicorn serving `create_app`. The
session's Temporal server and worker are left alone: while a synchronous test runs, their loop is paused.
"""

import asyncio
import socket
import threading
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from typing import Any, TypeVar

import uvicorn
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from config.binaries import installed_binary
from config.settings import Settings
from db.pool import create_pool
from tests.codec_keys import TEST_DATA_CONVERTER
from tests.integration.conftest import RecordingProvider
from workers.worker import build_worker
from workflows.search_attributes import ALL

T = TypeVar("T")
START_TIMEOUT = 90.0


class LiveStack:
    """`with LiveStack(database_url, settings) as base_url:` the API answers at `base_url` until the end."""

    def __init__(self, database_url: str, settings: Settings) -> None:
        self.database_url, self.settings = database_url, settings
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="live-stack", daemon=True)
        self._resources = AsyncExitStack()
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Future[None] | None = None

    def __enter__(self) -> str:
        self._thread.start()
        try:
            return self._run(self._start(), START_TIMEOUT)
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *_: object) -> None:
        try:
            self._run(self._stop(), START_TIMEOUT)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=START_TIMEOUT)

    def _run(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _start(self) -> str:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=installed_binary("temporal"),
            search_attributes=ALL,
            data_converter=TEST_DATA_CONVERTER,
        )
        self._resources.push_async_callback(env.shutdown)
        pool = await create_pool(self.database_url, max_size=10)
        self._resources.push_async_callback(pool.close)
        worker = build_worker(
            env.client, pool, provider=RecordingProvider(), staff_address="staff@clinic.example"
        )
        await self._resources.enter_async_context(worker)

        app = create_app(self.settings, pool=pool, temporal=env.client)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        host, port = listener.getsockname()
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._serving = asyncio.ensure_future(self._server.serve(sockets=[listener]))
        while not self._server.started:
            if self._serving.done():
                self._serving.result()  # raises why it stopped
            await asyncio.sleep(0.05)
        return f"http://{host}:{port}"

    async def _stop(self) -> None:
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await self._serving
        await self._resources.aclose()
