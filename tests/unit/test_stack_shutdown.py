"""Ctrl-C stops everything the stack started, even when the watch on PostgreSQL has died of an error."""

import asyncio
import os
import signal
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from config.database import URL_FILE
from config.settings import Settings
from tests.unit.stack_settings import free_port_settings
from workers import stack


class FakeProcess:
    def __init__(self, name: str, stopped: list[str]) -> None:
        self.name = name
        self.exits = 0
        self._stopped = stopped

    async def stop(self) -> None:
        self._stopped.append(self.name)


class FakePostgres:
    url = "postgresql://postgres:@/postgres?host=/nowhere"
    running = True

    def __init__(self, stopped: list[str]) -> None:
        self._stopped = stopped

    def ensure_running(self) -> None:
        pass

    def stop(self) -> None:
        self._stopped.append("postgres")


async def test_ctrl_c_stops_every_process_and_postgres_though_the_postgres_watch_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped: list[str] = []

    async def prepare_database(*args: object) -> None:
        pass

    async def watch_that_dies(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the watch failed")

    async def start_temporal(settings: Settings, processes: list[FakeProcess], *args: object) -> None:
        processes.append(FakeProcess("temporal", stopped))

    async def start_python(
        name: str, module: str, env: object, processes: list[FakeProcess], *args: object
    ) -> None:
        processes.append(FakeProcess(name, stopped))

    async def wait_ready(settings: Settings, processes: list[FakeProcess]) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, once everything has started

    monkeypatch.setattr(stack, "EmbeddedPostgres", lambda data_dir: FakePostgres(stopped))
    monkeypatch.setattr(stack, "prepare_database", prepare_database)
    monkeypatch.setattr(stack, "keep_running", watch_that_dies)
    monkeypatch.setattr(stack, "start_temporal", start_temporal)
    monkeypatch.setattr(stack, "start_python", start_python)
    monkeypatch.setattr(stack, "wait_ready", wait_ready)
    loop = asyncio.get_running_loop()
    try:
        with capture_logs() as logs:
            code = await asyncio.wait_for(stack.run_stack(free_port_settings(tmp_path / "data")), timeout=30)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

    assert code == 0
    assert stopped == ["codec", "api", "worker", "temporal", "postgres"]
    assert not (tmp_path / "data" / URL_FILE).exists()
    assert {
        "event": "stack.watch_failed",
        "process": "postgres",
        "error": "RuntimeError",
        "log_level": "error",
    } in logs


class StuckProcess(FakeProcess):
    async def stop(self) -> None:
        raise RuntimeError("its watch died")


async def test_a_process_that_fails_to_stop_does_not_keep_the_others_running() -> None:
    stopped: list[str] = []
    processes = [
        FakeProcess("temporal", stopped),
        StuckProcess("worker", stopped),
        FakeProcess("api", stopped),
    ]
    with capture_logs() as logs:
        await stack.stop(processes)  # type: ignore[arg-type]
    assert stopped == ["api", "temporal"]
    assert {
        "event": "stack.stop_failed",
        "process": "worker",
        "error": "RuntimeError",
        "log_level": "error",
    } in logs
