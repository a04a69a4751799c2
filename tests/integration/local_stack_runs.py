"""Running `python -m workers.stack` as a real process tree in tests: start it, wait for it, find its
children, stop it and whatever it left."""

import asyncio
import os
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from tests.integration.processes import (
    REPO,
    free_port,
    gone,
    processes_naming,
    python_command,
    python_env,
    wait_until,
)
from workers.supervisor import die_with_parent

START_TIMEOUT = 90.0
HEAL_TIMEOUT = 30.0


@dataclass
class Stack:
    process: asyncio.subprocess.Process
    data_dir: Path
    temporal_address: str
    ui_port: int
    api_url: str
    codec_url: str
    output: Path
    api_metrics_url: str
    worker_metrics_url: str

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


async def launch(
    output: Path,
    data_dir: Path,
    temporal_port: int,
    ui_port: int,
    api_port: int,
    codec_server_port: int | None = None,
    settings: Mapping[str, str] | None = None,
) -> Stack:
    """Starts `python -m workers.stack` (demo profile) with these ports (the codec server's a free one unless
    given) and data folder, its output to the file `output`; its metrics on free ports (not `make run`'s,
    which a developer's own stack may hold); `settings` (DVR_... variables) added to its environment."""
    codec_server_port = codec_server_port or free_port()
    api_metrics_port, worker_metrics_port = free_port(), free_port()
    with output.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            *python_command("workers.stack"),
            cwd=REPO,
            env=python_env(
                DVR_PROFILE="demo",
                DVR_DATA_DIR=str(data_dir),
                DVR_TEMPORAL_ADDRESS=f"127.0.0.1:{temporal_port}",
                DVR_TEMPORAL_UI_PORT=str(ui_port),
                DVR_API_PORT=str(api_port),
                DVR_CODEC_SERVER_PORT=str(codec_server_port),
                DVR_API_METRICS_PORT=str(api_metrics_port),
                DVR_WORKER_METRICS_PORT=str(worker_metrics_port),
                **(settings or {}),
            ),
            stdout=sink,
            stderr=subprocess.STDOUT,
            # A runner killed outright (SIGKILL: a CI time limit, the OOM killer) takes its stack with it:
            # SIGTERM, so the stack stops its own servers, its PostgreSQL included, as on Ctrl-C. The signal
            # comes when the thread that forked it ends: call launch() from a thread that lives as long.
            preexec_fn=die_with_parent(signal.SIGTERM),
            start_new_session=True,  # its own process group, as a terminal gives `make run`
        )
    return Stack(
        process,
        data_dir,
        f"127.0.0.1:{temporal_port}",
        ui_port,
        f"http://127.0.0.1:{api_port}",
        f"http://127.0.0.1:{codec_server_port}",
        output,
        f"http://127.0.0.1:{api_metrics_port}/metrics",
        f"http://127.0.0.1:{worker_metrics_port}/metrics",
    )


async def until_banner(stack: Stack) -> None:
    def started() -> bool:
        said = stack.output.read_text(errors="replace")
        return stack.process.returncode is not None or "is running" in said

    await wait_until("the stack's banner", started, timeout=START_TIMEOUT)
    assert stack.process.returncode is None, f"the stack exited; it said:\n{stack.tail()}"


async def end(stack: Stack) -> None:
    """Stops the stack (its whole process group) if it still runs, then whatever of its processes is left."""
    if stack.process.returncode is None:
        os.killpg(stack.process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(stack.process.wait(), timeout=60)
        except TimeoutError:
            os.killpg(stack.process.pid, signal.SIGKILL)
            await stack.process.wait()
    for leftover in processes_naming(str(stack.data_dir)):  # only ever this test's processes
        leftover.kill()
