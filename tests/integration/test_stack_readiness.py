"""The stack's start-up counts a server as ready only when the process it started is the one that answers:
a server left on the port by someone else (the processes of a stack that was killed) answering is not it."""

import asyncio
import sys
from collections.abc import AsyncIterator, Callable

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from temporalio.client import Client

from config.settings import Settings
from tests.integration.processes import free_port, wait_until
from workers import stack
from workers.preflight import StackError
from workers.supervisor import Supervised

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]  # ours, but it listens on nothing


async def test_a_temporal_server_that_is_not_ours_answering_on_the_port_is_not_ready(
    temporal: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = temporal.service_client.config.target_host  # someone else's dev server, answering there
    monkeypatch.setattr(stack, "temporal_command", lambda settings: SLEEPER)
    monkeypatch.setattr(stack, "STARTUP_TIMEOUT", 3.0)
    processes: list[Supervised] = []
    try:
        with pytest.raises(StackError, match="did not become ready"):
            await asyncio.wait_for(stack.start_temporal(Settings(temporal_address=address), processes), 30)
    finally:
        await stack.stop(processes)


@pytest.fixture
async def someone_elses_api() -> AsyncIterator[int]:
    """An HTTP server that answers 200 on /readyz, as the API of another stack would."""

    async def ready(request: object) -> PlainTextResponse:
        return PlainTextResponse("ready")

    port = free_port()
    config = uvicorn.Config(
        Starlette(routes=[Route("/readyz", ready)]), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    started: Callable[[], bool] = lambda: server.started or serving.done()  # noqa: E731
    try:
        await wait_until("the other API", started)
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)


async def test_an_api_that_is_not_ours_answering_on_the_port_is_not_ready(
    someone_elses_api: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack, "STARTUP_TIMEOUT", 3.0)
    api = Supervised("api", SLEEPER)
    await api.start()
    try:
        with pytest.raises(StackError, match="did not answer 200"):
            await asyncio.wait_for(stack.wait_ready(Settings(api_port=someone_elses_api), [api]), 30)
    finally:
        await api.stop()
