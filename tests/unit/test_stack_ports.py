"""A stack whose ports are taken (another stack, or the processes of one that was killed) fails at once,
naming the port, before it starts anything: it never runs beside, or attaches to, someone else's servers."""

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from config.settings import Settings
from tests.integration.processes import free_port
from tests.unit.stack_settings import free_port_settings
from workers import stack
from workers.preflight import port_in_use


@pytest.fixture
def listener() -> Iterator[int]:
    """A port that a server listens on, for the test's length."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


SETTING = {
    "temporal": "temporal_port",
    "ui": "temporal_ui_port",
    "api": "api_port",
    "codec": "codec_server_port",
    "api_metrics": "api_metrics_port",
    "worker_metrics": "worker_metrics_port",
}


def settings_with(tmp_path: Path, taken: str, port: int) -> Settings:
    return free_port_settings(tmp_path / "data", **{SETTING[taken]: port})


@pytest.mark.parametrize(
    ("taken", "what"),
    [
        ("temporal", "Temporal gRPC"),
        ("ui", "Temporal UI"),
        ("api", "API"),
        ("codec", "codec server"),
        ("api_metrics", "API metrics"),
        ("worker_metrics", "worker metrics"),
    ],
)
async def test_a_port_in_use_fails_the_start_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listener: int, taken: str, what: str
) -> None:
    def nothing_may_start(*args: object, **kwargs: object) -> None:
        raise AssertionError("the stack started something though a port was in use")

    for step in ("EmbeddedPostgres", "prepare_database", "start_temporal", "start_python"):
        monkeypatch.setattr(stack, step, nothing_may_start)
    with capture_logs() as logs:
        code = await stack.run_stack(settings_with(tmp_path, taken, listener))
    assert code == 1
    failed = [line["error"] for line in logs if line["event"] == "stack.failed"]
    assert len(failed) == 1
    assert failed[0].startswith(f"port {listener} ({what}")
    assert "is in use" in failed[0]
    assert not (tmp_path / "data").exists()


def test_a_free_port_is_not_in_use_and_a_listened_one_is(listener: int) -> None:
    assert not port_in_use("127.0.0.1", free_port())
    assert port_in_use("127.0.0.1", listener)


async def test_a_temporal_address_without_a_port_fails_the_start_with_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=None, temporal_address="127.0.0.1")
    with capture_logs() as logs:
        code = await stack.run_stack(settings)
    assert code == 1
    assert [line["error"] for line in logs if line["event"] == "stack.failed"] == [
        "DVR_TEMPORAL_ADDRESS is 127.0.0.1: it needs host:port"
    ]
    assert not (tmp_path / "data").exists()
