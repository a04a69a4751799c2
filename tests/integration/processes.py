"""Helpers for tests that run real processes: free ports, bounded waiting, and whether a process is gone."""

import asyncio
import itertools
import os
import random
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]


PORTS_PER_PROCESS = 2000
LOWEST_PORT = 20000
"""free_port's ports lie below Linux's ephemeral range (32768 on), from which the kernel hands out a port to
every outgoing connection and every bind to port 0: a port chosen here and bound a moment later by a server
the test starts cannot be taken in between by a connection, whoever opens it. Each pytest-xdist process has
a range of its own (gw0 from 20000, gw1 from 22000, ... gw4; gw5 on share gw0's and so on), and a process
outside pytest-xdist (one pytest process, a benchmark) another (from 30000); each starts at a random port of
its range, so two processes that share one seldom choose the same port."""


def port_range(worker: str | None) -> range:
    """The ports of the pytest-xdist process named `worker` (`gw0`, `gw1`, ...), or of a process outside
    pytest-xdist (None)."""
    index = int(worker.removeprefix("gw")) % 5 if worker and worker.startswith("gw") else 5
    low = LOWEST_PORT + PORTS_PER_PROCESS * index  # six ranges below 32768
    return range(low, low + PORTS_PER_PROCESS)


def _ports_from_anywhere(ports: range) -> "itertools.cycle[int]":
    """The range's ports in turn, from a random one: two processes given the same range (two suites at
    once, a benchmark beside a test run) seldom meet, and each moves on from a port that is taken."""
    start = random.randrange(len(ports))
    return itertools.cycle([*ports[start:], *ports[:start]])


_ports = _ports_from_anywhere(port_range(os.environ.get("PYTEST_XDIST_WORKER")))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now: the next of this process's range (not one
    handed out a moment ago) that can be bound."""
    for _ in range(PORTS_PER_PROCESS):
        port = next(_ports)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use (or still closing): the next
            return port
    raise OSError(f"no free port in {port_range(os.environ.get('PYTEST_XDIST_WORKER'))}")


async def wait_until(what: str, check: Callable[[], bool], *, timeout: float = 30.0) -> None:
    """Polls `check` until it holds; fails naming `what` after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.1)


async def poll_until(what: str, check: Callable[[], Awaitable[bool]], *, timeout: float = 15.0) -> None:
    """Polls an async check (of the database, of a history) until it holds; fails naming `what` after
    `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
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
