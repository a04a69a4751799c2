"""An error the API lets through to uvicorn (Starlette raises it again after the 500 is answered) is logged by
its type only: no message, no traceback, whichever logger or handler looks at the record."""

import asyncio
import io
import logging
from collections.abc import Iterator

import httpx
import pytest
import structlog
import uvicorn
from fastapi import FastAPI

from api.problems import install_problem_handlers
from config.logging import configure_logging
from config.settings import Settings
from workers.api_server import server_options


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def logging_put_back() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    config = structlog.get_config()
    filters = {name: list(logging.getLogger(name).filters) for name in ("uvicorn.error", "uvicorn.asgi")}
    # A server started earlier in the session with uvicorn's own log config (the integration tests' servers)
    # leaves `uvicorn` with a handler of its own that does not propagate; the API's process never has that
    # (its server runs with `log_config=None`), so this test starts from the same state.
    uvicorn_logger = logging.getLogger("uvicorn")
    kept_handlers, kept_propagate = list(uvicorn_logger.handlers), uvicorn_logger.propagate
    uvicorn_logger.handlers, uvicorn_logger.propagate = [], True
    yield
    uvicorn_logger.handlers, uvicorn_logger.propagate = kept_handlers, kept_propagate
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    structlog.configure(**config)
    for name, kept in filters.items():
        logging.getLogger(name).filters = kept


def _app_raising() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/v1/pathways/{pathway_id}")
    async def _read(pathway_id: str) -> None:
        raise ValueError("canary PHI Ada Example")

    return app


async def test_an_error_uvicorn_logs_is_named_by_its_type_only() -> None:
    out = io.StringIO()
    configure_logging("info", "json", out)
    records = Records()
    logging.getLogger().addHandler(records)
    options = server_options(Settings(api_host="127.0.0.1", api_port=0))
    server = uvicorn.Server(uvicorn.Config(_app_raising(), log_level="warning", **options))
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(500):  # up to 10 s
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            answer = await client.get("/v1/pathways/pathway-1")
        assert answer.status_code == 500
    finally:
        server.should_exit = True
        await serving

    written = out.getvalue()
    assert "Exception in ASGI application (ValueError)" in written, written
    assert "api.unexpected_error" in written
    assert "canary" not in written and "Traceback" not in written, written
    for record in records.records:
        assert record.exc_info is None and not record.exc_text, record.name
        assert "canary" not in record.getMessage(), record.name
