"""What the API benchmarks share: an HTTP session on the stack's API, referrals sent through it, waiting on
Temporal's visibility store, and the CPU each process of the stack used."""

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import psutil
from temporalio.client import Client

from bench.stack import BenchStack
from tests.referrals import referral_body
from workflows import search_attributes as sa

AT_MRI_REVIEW = f"WorkflowType = 'PatientPathway' AND {sa.PATHWAY_STAGE.name} = 'mri'"
"""Pathways started and waiting for their MRI review (a referral with a recent MRI stops there)."""


def run_tag() -> str:
    """A prefix for this run's referral ids, so that runs on one stack never share a referral."""
    return secrets.token_hex(3).upper()


@asynccontextmanager
async def api_session(stack: BenchStack, connections: int) -> AsyncIterator[aiohttp.ClientSession]:
    """An aiohttp session on the stack's API with its key (a light client: the load generator shares the
    machine with the stack), at most `connections` connections."""
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    async with aiohttp.ClientSession(
        stack.api_url, headers=stack.headers, connector=connector, raise_for_status=False
    ) as session:
        yield session


class Refused(Exception):
    """The API answered a status the benchmark did not expect."""


async def refer(session: aiohttp.ClientSession, referral_id: str, *, idempotency_key: bool = True) -> str:
    """Sends a typical referral (with an Idempotency-Key, as an upstream system that retries does); returns
    its pathway id."""
    headers = {"Idempotency-Key": f"bench-{referral_id}"} if idempotency_key else {}
    async with session.post("/v1/referrals", json=referral_body(referral_id), headers=headers) as answer:
        if answer.status != 201:
            raise Refused(f"POST /v1/referrals answered {answer.status}")
        pathway_id: str = (await answer.json())["pathway_id"]
        return pathway_id


async def read_pathway(session: aiohttp.ClientSession, pathway_id: str) -> None:
    """Reads one pathway's view as an upstream system does (`GET /v1/pathways/{id}`), body and all."""
    async with session.get(f"/v1/pathways/{pathway_id}") as answer:
        await answer.read()
        if answer.status != 200:
            raise Refused(f"GET /v1/pathways/{{id}} answered {answer.status}")


async def until_count(client: Client, query: str, wanted: int, *, timeout: float) -> float:
    """Waits until visibility counts `wanted` workflows for `query`; returns the seconds it took. Raises
    TimeoutError after `timeout`."""
    began = time.perf_counter()
    while (await client.count_workflows(query)).count != wanted:
        if time.perf_counter() - began > timeout:
            counted = (await client.count_workflows(query)).count
            raise TimeoutError(f"{counted} of {wanted} workflows for {query!r} after {timeout:.0f} s")
        await asyncio.sleep(0.25)
    return time.perf_counter() - began


MARKERS = (
    ("temporal", "start-dev"),
    ("worker", "workers.worker"),
    ("api", "workers.api_server"),
    ("codec", "workers.codec_server"),
)


def stack_processes(stack: BenchStack) -> dict[str, psutil.Process]:
    """The stack's processes by part (each counted with its own children: PostgreSQL's backends, say), its
    supervisor, and this benchmark's own process, which drives the load."""
    found: dict[str, psutil.Process] = {
        "supervisor": psutil.Process(stack.stack.process.pid),
        "bench": psutil.Process(),
    }
    for part, marker in MARKERS:
        child = stack.stack.child(marker)
        if child is not None:
            found[part] = child
    postmaster = stack.stack.postgres_pid()
    if postmaster is not None:
        found["postgres"] = psutil.Process(postmaster)
    return found


ALONE = ("supervisor", "bench")
"""Parts counted without their children: the supervisor's are the stack's other parts, and the stack is the
benchmark's child."""


def _cpu_seconds(part: str, process: psutil.Process) -> float:
    total = 0.0
    for one in (process,) if part in ALONE else (process, *process.children(recursive=True)):
        try:
            times = one.cpu_times()
        except psutil.NoSuchProcess:
            continue  # a backend that ended meanwhile: its time is lost to the figure
        total += times.user + times.system
    return total


@dataclass
class CpuMeter:
    """CPU each part used between `start()` and `stop()`, as % of one core (200 % is both cores of a two-core
    machine)."""

    processes: dict[str, psutil.Process]
    _began: float = 0.0
    _start: dict[str, float] | None = None

    def start(self) -> None:
        self._start = {part: _cpu_seconds(part, p) for part, p in self.processes.items()}
        self._began = time.perf_counter()

    def stop(self) -> dict[str, float]:
        assert self._start is not None, "start() first"
        elapsed = time.perf_counter() - self._began
        return {
            part: 100 * (_cpu_seconds(part, p) - self._start[part]) / elapsed
            for part, p in self.processes.items()
        }


def load_note() -> str:
    """The machine's load average now (other work on a shared machine shows here)."""
    one, five, fifteen = os.getloadavg()
    return (
        f"machine load average at the end (1, 5, 15 min): {one:.1f}, {five:.1f}, {fifteen:.1f}"
        f" on {os.cpu_count()} CPUs"
    )


def cpu_note(what: str, cpu: dict[str, float]) -> str:
    shown = ", ".join(f"{part} {value:.0f}%" for part, value in sorted(cpu.items(), key=lambda i: -i[1]))
    return f"CPU during {what} (% of one core): {shown}"
