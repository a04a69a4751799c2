"""Helpers for tests that run real processes: free ports, bounded waiting, and whether a process is gone."""

import asyncio
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_until(what: str, check: Callable[[], bool], *, timeout: float = 30.0) -> None:
    """Polls `check` until it holds; fails naming `what` after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.1)


def gone(pid: int) -> bool:
    """True when no process has this pid any more (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def processes_naming(text: str) -> list[psutil.Process]:
    """Live processes whose command line mentions `text` (a data folder, say)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(text in part for part in process.info["cmdline"] or ()) and not gone(process.pid):
            found.append(process)
    return found


def python_env(**settings: str) -> dict[str, str]:
    """The environment for `python -m ...` from this checkout: no DATABASE_URL or DVR_ settings inherited,
    then `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DVR_") and k != "DATABASE_URL"}
    return {**env, "PYTHONPATH": str(REPO), **settings}


def python_command(module: str) -> list[str]:
    return [sys.executable, "-m", module]
