"""Embedded PostgreSQL read from its postmaster.pid, which PostgreSQL writes line by line while it starts and
removes when it stops: a partial or vanished file means "not known to be running yet", never an exception.

One data folder for the module; each test leaves its server stopped.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from db import embedded
from db.embedded import EmbeddedPostgres
from tests.integration.processes import gone, wait_until


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = Path(tmp_path_factory.mktemp("embedded")) / "pg"
    EmbeddedPostgres(path).stop()  # initdb and a first start
    return path.resolve()


@pytest.fixture
def server(data_dir: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(data_dir)
    yield server
    server.stop()


@pytest.fixture
def live_pid() -> Iterator[int]:
    """A live process that stands in for a postmaster part-way through its start."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield child.pid
    child.kill()
    child.wait()


def exited_pid() -> int:
    """The pid of a process that has exited and been reaped, as a postmaster killed mid-start."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def write_partial(data_dir: Path, pid: int, lines: int = 5) -> None:
    """A postmaster.pid as PostgreSQL leaves it part-way through its start: the first `lines` lines of 8."""
    whole = [str(pid), str(data_dir), "1764000000", "5432", str(data_dir), "", "  0  0", "ready   "]
    (data_dir / "postmaster.pid").write_text("".join(f"{line}\n" for line in whole[:lines]))


def state(server: EmbeddedPostgres) -> tuple[int | None, bool]:
    return server.pid, server.running


def test_a_partial_missing_or_vanishing_postmaster_pid_reads_as_not_running_yet(
    server: EmbeddedPostgres, data_dir: Path, live_pid: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert server.pid is not None
    assert server.running
    server.stop()
    assert state(server) == (None, False)
    pid_file = data_dir / "postmaster.pid"
    try:
        for lines in (0, 1, 5, 7):
            write_partial(data_dir, live_pid, lines)
            assert state(server) == (None, False), f"{lines} lines"
    finally:
        pid_file.unlink()
    with monkeypatch.context() as patched:  # there when looked for, gone when read
        patched.setattr(Path, "exists", lambda self, *args, **kwargs: True)
        assert state(server) == (None, False)


def test_a_server_killed_mid_start_is_started_again(data_dir: Path) -> None:
    write_partial(data_dir, exited_pid())
    server = EmbeddedPostgres(data_dir)  # over the partial file the killed start left
    try:
        first = server.pid
        assert first is not None
        server.stop()
        write_partial(data_dir, exited_pid())
        server.ensure_running()
        assert server.pid not in (None, first)
    finally:
        server.stop()
    assert not server.running


def test_a_starting_server_is_waited_for_and_never_started_over(
    server: EmbeddedPostgres, data_dir: Path
) -> None:
    pid_file = data_dir / "postmaster.pid"
    pid = server.pid
    assert pid is not None
    whole = pid_file.read_text()
    write_partial(data_dir, pid)  # as the file reads while that server starts
    server.settle_timeout = 0.3
    try:
        with pytest.raises(embedded.PostgresBusy):
            server.ensure_running()
        assert not gone(pid)
        assert pid_file.exists()  # its lock file left alone
    finally:
        pid_file.write_text(whole)
    server.ensure_running()
    assert server.pid == pid


async def test_stop_stops_a_server_whose_postmaster_pid_reads_partial(
    server: EmbeddedPostgres, data_dir: Path
) -> None:
    pid = server.pid
    assert pid is not None
    handles = data_dir / ".handle_pids.json"  # a run killed earlier still holds a handle on the server, so
    handles.write_text(json.dumps([exited_pid(), *json.loads(handles.read_text())]))  # cleanup leaves it
    write_partial(data_dir, pid)
    server.stop()
    await wait_until("the server gone", lambda: gone(pid))
    assert not (data_dir / "postmaster.pid").exists()
    handles.write_text("[]")


def test_stop_with_a_stale_partial_postmaster_pid_has_nothing_to_stop(
    server: EmbeddedPostgres, data_dir: Path
) -> None:
    server.stop()
    write_partial(data_dir, exited_pid())
    try:
        server.stop()
    finally:
        (data_dir / "postmaster.pid").unlink()
    assert os.path.isdir(data_dir)
