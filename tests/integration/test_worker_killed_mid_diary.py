"""A worker killed mid-diary: the pathway carries on after the restart, with no message twice and no burst.

The worker runs as a real process (`python -m workers.worker`, demo profile timings) against its own Temporal
dev server and the test database. The pathway is walked to the relief check; once the first diary prompt is
out, the worker is killed with SIGKILL and kept down while later prompt and nudge moments pass, then started
again. The outbox and the workers' delivery log lines show what the patient received.
"""

import asyncio
import json
import os
import signal
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from config.binaries import installed_binary
from config.settings import Settings
from domain.config import DEMO
from domain.relief import diary_schedule
from tests.codec_keys import TEST_DATA_CONVERTER, TEST_KEY, TEST_KEY_ID
from tests.integration.conftest import API_KEY
from tests.integration.polling import poll_view
from tests.integration.processes import REPO, poll_until, python_command, python_env, wait_until
from tests.integration.walk import walk_to_relief_check
from workflows.search_attributes import ALL

POLICY = DEMO.relief


class WorkerProcess:
    """`python -m workers.worker`, as the README runs it by hand, with its output kept in a file."""

    def __init__(self, output: Path, env: dict[str, str]) -> None:
        self.output = output
        self._env = env
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> datetime:
        """Starts the worker; returns when it said it polls."""
        with self.output.open("wb") as sink:
            self._process = await asyncio.create_subprocess_exec(
                *python_command("workers.worker"),
                cwd=REPO,
                env=self._env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        process = self._process
        await wait_until(
            "the worker to start",
            lambda: process.returncode is not None or "worker.started" in self.said(),
            timeout=30,
        )
        assert process.returncode is None, self.said()
        return datetime.now(UTC)

    async def kill(self) -> datetime:
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGKILL)
        await self._process.wait()
        return datetime.now(UTC)

    async def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            await asyncio.wait_for(self._process.wait(), timeout=30)

    def said(self) -> str:
        return self.output.read_text(errors="replace") if self.output.exists() else ""

    def delivered(self) -> list[str]:
        """The key of every message this worker handed to the (log) provider, from its log lines (JSON: its
        output is a file, not a terminal)."""
        lines = [json.loads(line) for line in self.said().splitlines() if line.startswith("{")]
        return [line["key"] for line in lines if line.get("event") == "notification.delivered"]


@pytest.fixture(scope="module")
async def own_temporal() -> AsyncIterator[Client]:
    """A dev server of this module's own: the suite's in-process worker polls the shared one."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=installed_binary("temporal"),
        search_attributes=ALL,
        data_converter=TEST_DATA_CONVERTER,
    )
    yield env.client
    await env.shutdown()


@pytest.fixture
async def api_alone(pool: asyncpg.Pool, own_temporal: Client) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(profile="demo", update_timeout_seconds=20), pool=pool, temporal=own_temporal)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://api.test",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as client:
        yield client


async def outbox(pool: asyncpg.Pool, pathway_id: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "select message_key, template, status, created_at from outbox where pathway_id = $1 order by id",
        pathway_id,
    )


def numbers(rows: list[asyncpg.Record], pathway_id: str, kind: str) -> list[int]:
    """The prompt numbers of the outbox rows `<pathway>:<kind>:1:<n>` (kind `diary` or `diary-nudge`)."""
    prefix = f"{pathway_id}:{kind}:1:"
    return [int(r["message_key"].removeprefix(prefix)) for r in rows if r["message_key"].startswith(prefix)]


async def test_a_worker_killed_mid_diary_resumes_the_pathway_without_duplicates_or_a_burst(
    database: str, pool: asyncpg.Pool, own_temporal: Client, api_alone: httpx.AsyncClient, tmp_path: Path
) -> None:
    env = python_env(
        DATABASE_URL=database,
        DVR_TEMPORAL_ADDRESS=own_temporal.service_client.config.target_host,
        DVR_PROFILE="demo",
        DVR_CODEC_KEYS=f"{TEST_KEY_ID}:{TEST_KEY}",  # the keys of the API's client: one history, one codec
    )
    first = WorkerProcess(tmp_path / "worker-1.log", env)
    second = WorkerProcess(tmp_path / "worker-2.log", env)
    try:
        await first.start()
        pathway_id = await walk_to_relief_check(api_alone, "REF-WORKER-OUTAGE")
        view = (await api_alone.get(f"/v1/pathways/{pathway_id}")).json()
        schedule = diary_schedule(datetime.fromisoformat(view["relief_check"]["performed_at"]), POLICY)
        prompt_1 = f"{pathway_id}:diary:1:1"

        # Mid-diary, between sends: the first prompt is out and nothing else is on its way.
        async def quiet_after_first_prompt() -> bool:
            rows = await outbox(pool, pathway_id)
            sent = {r["message_key"] for r in rows if r["status"] == "sent"}
            return prompt_1 in sent and all(r["status"] in ("sent", "suppressed") for r in rows)

        await poll_until("the first prompt sent and no send under way", quiet_after_first_prompt)
        killed_at = await first.kill()

        # The outage: the worker stays down until two more prompt moments and their nudges have passed.
        second_moment_after_kill = [at for at in schedule if at > killed_at][1]
        down_until = second_moment_after_kill + POLICY.nudge_after + timedelta(seconds=0.5)
        await asyncio.sleep(max(0.0, (down_until - datetime.now(UTC)).total_seconds()))
        await second.start()

        async def resumed() -> bool:
            return any(r["created_at"] > killed_at for r in await outbox(pool, pathway_id))

        await poll_until("the first message after the restart", resumed, timeout=30)
        rows = await outbox(pool, pathway_id)
        resumed_at = min(r["created_at"] for r in rows if r["created_at"] > killed_at)

        # The pathway carries on: the next prompt goes out at its moment, and the diary reaches its verdict.
        next_prompt = next(n for n, at in enumerate(schedule, start=1) if at > resumed_at)

        async def next_prompt_sent() -> bool:
            return next_prompt in numbers(await outbox(pool, pathway_id), pathway_id, "diary")

        await poll_until(f"prompt {next_prompt} at its moment", next_prompt_sent, timeout=30)
        performed_at = schedule[0] - POLICY.prompt_offsets[0]
        for pain, at in ((1, timedelta(seconds=2)), (0, timedelta(seconds=5)), (7, None)):
            body = {"pain": pain} | ({"recorded_at": (performed_at + at).isoformat()} if at else {})
            answer = await api_alone.post(f"/v1/pathways/{pathway_id}/pain-reports", json=body)
            assert answer.status_code == 200, answer.text
        view = await poll_view(api_alone, pathway_id, "candidacy", lambda v: v["stage"] == "candidacy")
        assert view["relief_check"]["result"] == "positive"
    finally:
        await first.stop()
        await second.stop()

    rows = await outbox(pool, pathway_id)
    # No message went out twice: each key was handed to the provider once, by one worker or the other.
    delivered = Counter(key for key in first.delivered() + second.delivered() if key.startswith(pathway_id))
    assert [key for key, times in delivered.items() if times > 1] == []
    assert {r["message_key"] for r in rows if r["status"] == "sent"} == set(delivered)
    # No burst: of the prompts whose moment passed while the worker was down, at most the current one went
    # out, and no nudge whose moment passed then: neither for a prompt whose answer window had closed, nor
    # for the prompt sent again (it would go out with it).
    missed = [n for n, at in enumerate(schedule, start=1) if killed_at < at <= resumed_at]
    assert len(missed) >= 2, f"the outage spanned prompts {missed}"
    prompts = numbers(rows, pathway_id, "diary")
    assert [n for n in prompts if n in missed] in ([], [missed[-1]])
    stale_nudges = [
        n for n, at in enumerate(schedule[:-1], start=1) if killed_at < at + POLICY.nudge_after <= resumed_at
    ]
    assert [n for n in numbers(rows, pathway_id, "diary-nudge") if n in stale_nudges] == []
    assert 1 in prompts and next_prompt in prompts
