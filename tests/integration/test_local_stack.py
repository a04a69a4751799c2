"""The local stack (`make run`) as a real process tree: it heals, keeps its files private, Ctrl-C stops it.

One stack runs for the module (demo profile, its own ports and data folder); each test kills a part of it with
SIGKILL and waits, bounded, for the supervisor to bring it back. The last test stops it with Ctrl-C.
"""

import asyncio
import os
import re
import signal
import stat
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from config.database import URL_FILE
from tests.integration.processes import (
    REPO,
    free_port,
    gone,
    processes_naming,
    python_command,
    python_env,
    wait_until,
)
from workers.stack import data_dir_mode

START_TIMEOUT = 90.0
HEAL_TIMEOUT = 30.0


@dataclass
class Stack:
    process: asyncio.subprocess.Process
    data_dir: Path
    temporal_address: str
    ui_port: int
    api_url: str
    output: Path

    def child(self, marker: str) -> psutil.Process | None:
        """The stack's live child process whose command line contains `marker`."""
        for child in psutil.Process(self.process.pid).children():
            try:
                if any(marker in part for part in child.cmdline()) and not gone(child.pid):
                    return child
            except psutil.NoSuchProcess:
                continue
        return None

    def child_pid(self, marker: str) -> int:
        child = self.child(marker)
        assert child is not None, f"no {marker} process; the stack said:\n{self.tail()}"
        pid: int = child.pid
        return pid

    def postgres_pid(self) -> int | None:
        pid_file = self.data_dir / "postgres" / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        return None if gone(pid) else pid

    def tail(self) -> str:
        return "\n".join(self.output.read_text(errors="replace").splitlines()[-40:])

    async def ready(self) -> bool:
        try:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"{self.api_url}/readyz", timeout=2)).status_code == 200
        except httpx.HTTPError:
            return False


async def until_ready(stack: Stack, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + HEAL_TIMEOUT
    while not await stack.ready():
        assert stack.process.returncode is None, f"the stack exited; it said:\n{stack.tail()}"
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: /readyz never answered 200; the stack said:\n{stack.tail()}")
        await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    root = tmp_path_factory.mktemp("stack")
    temporal_port, ui_port, api_port = free_port(), free_port(), free_port()
    output = root / "stack.log"
    with output.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            *python_command("workers.stack"),
            cwd=REPO,
            env=python_env(
                DVR_PROFILE="demo",
                DVR_DATA_DIR=str(root / "data"),
                DVR_TEMPORAL_ADDRESS=f"127.0.0.1:{temporal_port}",
                DVR_TEMPORAL_UI_PORT=str(ui_port),
                DVR_API_PORT=str(api_port),
            ),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives `make run`
        )
    stack = Stack(
        process, root / "data", f"127.0.0.1:{temporal_port}", ui_port, f"http://127.0.0.1:{api_port}", output
    )
    try:
        await wait_until(
            "the stack's banner",
            lambda: process.returncode is not None or "is running" in output.read_text(errors="replace"),
            timeout=START_TIMEOUT,
        )
        assert process.returncode is None, f"the stack exited; it said:\n{stack.tail()}"
        yield stack
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=60)
            except TimeoutError:
                os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        for leftover in processes_naming(str(stack.data_dir)):  # only ever this test's processes
            leftover.kill()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_data_folder_and_every_file_in_it_are_readable_by_the_owner_only(stack: Stack) -> None:
    assert (stack.data_dir / "temporal.sqlite").exists()
    assert mode(stack.data_dir) == data_dir_mode()
    files = {p.name: mode(p) for p in stack.data_dir.iterdir() if p.is_file()}
    assert files == dict.fromkeys(files, 0o600)
    assert {"temporal.sqlite", "bootstrap-api-key", URL_FILE} <= set(files)
    assert mode(stack.data_dir / "postgres") == 0o700


async def test_the_temporal_dev_server_listens_on_loopback_only(stack: Stack) -> None:
    temporal = psutil.Process(stack.child_pid("start-dev"))
    listening = [c.laddr for c in temporal.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    ports = {address.port for address in listening}
    assert {int(stack.temporal_address.rpartition(":")[2]), stack.ui_port} <= ports
    assert {address.ip for address in listening} == {"127.0.0.1"}


async def test_a_killed_worker_is_started_again_and_the_restart_is_logged(stack: Stack) -> None:
    killed = stack.child_pid("workers.worker")
    os.kill(killed, signal.SIGKILL)
    restarted = re.compile(r"stack\.process_restarted\s.*process=worker")
    await wait_until(
        "a new worker, and its restart logged",
        lambda: (
            (child := stack.child("workers.worker")) is not None
            and child.pid != killed
            and restarted.search(stack.tail()) is not None
        ),
        timeout=HEAL_TIMEOUT,
    )
    assert f"exit_code=-9 pid={killed} process=worker" in stack.tail()
    assert stack.process.returncode is None


async def test_a_killed_api_is_started_again_and_answers(stack: Stack) -> None:
    killed = stack.child_pid("workers.api_server")
    os.kill(killed, signal.SIGKILL)
    await wait_until(
        "a new API process",
        lambda: (child := stack.child("workers.api_server")) is not None and child.pid != killed,
        timeout=HEAL_TIMEOUT,
    )
    await until_ready(stack, "after the API was killed")


async def test_a_killed_embedded_postgres_is_started_again(stack: Stack) -> None:
    killed = stack.postgres_pid()
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    await wait_until(
        "PostgreSQL running again",
        lambda: stack.postgres_pid() not in (None, killed),
        timeout=HEAL_TIMEOUT,
    )
    await until_ready(stack, "after PostgreSQL was killed")  # /readyz reads the database


async def test_a_worker_started_by_hand_with_the_readme_command_finds_the_stack_database(
    stack: Stack, tmp_path: Path
) -> None:
    output = tmp_path / "worker.log"
    with output.open("wb") as sink:
        worker = await asyncio.create_subprocess_exec(
            *python_command("workers.worker"),
            cwd=REPO,
            env=python_env(DVR_DATA_DIR=str(stack.data_dir), DVR_TEMPORAL_ADDRESS=stack.temporal_address),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        await wait_until(
            "the worker to start",
            lambda: worker.returncode is not None or "worker.started" in output.read_text(errors="replace"),
            timeout=HEAL_TIMEOUT,
        )
        assert worker.returncode is None, output.read_text(errors="replace")
    finally:
        if worker.returncode is None:
            worker.terminate()
        code = await asyncio.wait_for(worker.wait(), timeout=30)
    assert code == 0, output.read_text(errors="replace")


async def test_ctrl_c_stops_every_process_including_a_postgres_restarted_meanwhile(stack: Stack) -> None:
    killed = stack.postgres_pid()
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    await wait_until(
        "PostgreSQL running again", lambda: stack.postgres_pid() not in (None, killed), timeout=HEAL_TIMEOUT
    )
    restarted = stack.postgres_pid()
    assert restarted is not None
    pids = [stack.process.pid, restarted] + [
        stack.child_pid(marker) for marker in ("start-dev", "workers.worker", "workers.api_server")
    ]

    os.killpg(stack.process.pid, signal.SIGINT)  # what Ctrl-C in its terminal does
    code = await asyncio.wait_for(stack.process.wait(), timeout=60)

    assert code == 0, stack.tail()
    assert [pid for pid in pids if not gone(pid)] == []
    assert processes_naming(str(stack.data_dir)) == []
    assert not (stack.data_dir / URL_FILE).exists()
