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
from pathlib import Path

import httpx
import psutil
import pytest
from google.protobuf import json_format
from playwright.async_api import Browser, expect
from temporalio.api.common.v1 import Payloads
from temporalio.client import Client

from config.codec_keys import KEY_FILE, read_key_file
from config.database import URL_FILE
from config.temporal import data_converter
from tests.integration.local_stack_runs import (
    HEAL_TIMEOUT,
    START_TIMEOUT,
    Stack,
    end,
    launch,
    until_banner,
    until_ready,
)
from tests.integration.processes import (
    REPO,
    free_port,
    gone,
    processes_naming,
    python_command,
    python_env,
    wait_until,
)
from tests.referrals import referral_body
from workers.preflight import data_dir_mode


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    root = tmp_path_factory.mktemp("stack")
    stack = await launch(root / "stack.log", root / "data", free_port(), free_port(), free_port())
    try:
        await until_banner(stack)
        yield stack
    finally:
        await end(stack)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_data_folder_and_every_file_in_it_are_readable_by_the_owner_only(stack: Stack) -> None:
    assert (stack.data_dir / "temporal.sqlite").exists()
    assert mode(stack.data_dir) == data_dir_mode()
    files = {p.name: mode(p) for p in stack.data_dir.iterdir() if p.is_file()}
    assert files == dict.fromkeys(files, 0o600)
    assert {"temporal.sqlite", "bootstrap-api-key", URL_FILE, KEY_FILE} <= set(files)
    assert mode(stack.data_dir / "postgres") == 0o700


async def test_the_temporal_dev_server_listens_on_loopback_only(stack: Stack) -> None:
    temporal = psutil.Process(stack.child_pid("start-dev"))
    listening = [c.laddr for c in temporal.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    ports = {address.port for address in listening}
    assert {int(stack.temporal_address.rpartition(":")[2]), stack.ui_port} <= ports
    assert {address.ip for address in listening} == {"127.0.0.1"}


async def test_the_ui_decodes_through_the_stacks_codec_server_for_a_signed_in_browser(stack: Stack) -> None:
    ui = f"http://127.0.0.1:{stack.ui_port}"
    key = (stack.data_dir / "bootstrap-api-key").read_text().strip()
    keys = read_key_file(stack.data_dir / KEY_FILE)
    [sealed] = await data_converter(keys).encode(["decoded through the codec server"])
    body = json_format.MessageToDict(Payloads(payloads=[sealed]))
    async with httpx.AsyncClient() as http:
        settings = (await http.get(f"{ui}/api/v1/settings")).json()
        assert settings["Codec"]["Endpoint"] == stack.codec_url  # the UI's browser calls it directly
        preflight = await http.options(
            f"{stack.codec_url}/decode",
            headers={
                "Origin": ui,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-namespace",
            },
        )
        assert preflight.headers["access-control-allow-origin"] == ui
        assert (await http.post(f"{stack.codec_url}/decode", json=body)).status_code == 401
        signed_in = await http.post(f"{stack.codec_url}/sign-in", data={"key": key})
        assert signed_in.status_code == 303
        decoded = await http.post(
            f"{stack.codec_url}/decode?preserveStorageRefs=true",
            json=body,
            headers={"Origin": ui, "X-Namespace": "default"},
        )
    assert decoded.status_code == 200, decoded.text
    assert decoded.headers["access-control-allow-origin"] == ui
    [plain] = json_format.Parse(decoded.text, Payloads()).payloads
    assert plain.data == b'"decoded through the codec server"'


# How long the Temporal UI (a single-page app fetching the history and calling the codec server) may take to
# show what the test waits for: seconds on a loaded machine, where Playwright's 5 s default was seen to lapse.
UI_WAIT_MS = 30_000


async def test_the_ui_shows_history_encrypted_until_the_browser_signs_in_to_the_codec_server(
    stack: Stack, browser: Browser
) -> None:
    key = (stack.data_dir / "bootstrap-api-key").read_text().strip()
    async with httpx.AsyncClient(base_url=stack.api_url, headers={"Authorization": f"Bearer {key}"}) as api:
        created = await api.post("/v1/referrals", json=referral_body("REF-UI-CODEC-1"))
        assert created.status_code == 201, created.text
        pathway_id = created.json()["pathway_id"]
        withdrawn = await api.post(f"/v1/pathways/{pathway_id}/withdraw", json={"reason": "moved away"})
        assert withdrawn.status_code == 200, withdrawn.text
    plain_client = await Client.connect(stack.temporal_address)  # no codec: the UI link needs only the run
    run_id = (await plain_client.get_workflow_handle(pathway_id).describe()).run_id
    ui = f"http://127.0.0.1:{stack.ui_port}"
    history = f"{ui}/namespaces/default/workflows/{pathway_id}/{run_id}/history"

    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(history)  # as `make run` leaves the UI: its codec endpoint, no credentials sent
        await expect(page.locator("#content").get_by_text("Codec Server could not connect")).to_be_visible(
            timeout=UI_WAIT_MS
        )
        assert '"withdrawn"' not in await page.inner_text("body")

        sign_in = await context.new_page()
        await sign_in.goto(stack.codec_url)
        await sign_in.get_by_label("API key").fill(key)
        await sign_in.get_by_role("button", name="Sign in").click()
        await expect(sign_in.get_by_text("This browser is signed in")).to_be_visible(timeout=UI_WAIT_MS)
        # The UI's Codec Server settings for this browser, as README says: this endpoint, with credentials.
        await page.get_by_test_id("data-encoder-status-error").click()  # the red codec icon, top bar
        await page.get_by_text("Use my browser setting and ignore").click()
        await page.get_by_placeholder("Paste your endpoint here").fill(stack.codec_url)
        await page.get_by_text("Include cross-origin credentials").click()
        await page.get_by_role("button", name="Apply").click()
        await page.goto(history)
        await expect(page.locator("body")).to_contain_text('"outcome": "withdrawn"', timeout=UI_WAIT_MS)
        await expect(page.locator("body")).to_contain_text(
            '"clinic_site": "phoenix-main"', timeout=UI_WAIT_MS
        )
    finally:
        await context.close()


async def test_the_api_and_the_worker_serve_their_metrics(stack: Stack) -> None:
    """The API's requests (the stack's own /readyz polls) and operations gauges, and the worker's Temporal
    SDK metrics, each on its own port, which the banner names."""
    said: dict[str, str] = {}

    async def scrape(name: str, url: str, wanted: str) -> bool:
        try:
            async with httpx.AsyncClient() as http:
                said[name] = (await http.get(url, timeout=2)).text
        except httpx.HTTPError:
            return False
        return wanted in said[name]

    deadline = asyncio.get_running_loop().time() + HEAL_TIMEOUT
    while not (
        await scrape(
            "api", stack.api_metrics_url, 'dvr_pathways_open{clinic_site="phoenix-main",stage="mri"}'
        )
        and await scrape("worker", stack.worker_metrics_url, "temporal_worker_task_slots_available")
    ):
        assert asyncio.get_running_loop().time() < deadline, f"metrics never served: {said}"
        await asyncio.sleep(0.2)
    assert 'dvr_api_requests_total{method="GET",route="/readyz",status="200"}' in said["api"]
    assert "dvr_outbox_messages" in said["api"]
    assert f"API {stack.api_metrics_url}" in stack.output.read_text()
    assert f"worker {stack.worker_metrics_url}" in stack.output.read_text()


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


async def test_a_second_stack_on_the_same_ports_fails_at_once_and_starts_nothing(
    stack: Stack, tmp_path: Path
) -> None:
    temporal_port = int(stack.temporal_address.rpartition(":")[2])
    api_port = int(stack.api_url.rpartition(":")[2])
    second = await launch(tmp_path / "stack.log", tmp_path / "data", temporal_port, stack.ui_port, api_port)
    try:
        code = await asyncio.wait_for(second.process.wait(), timeout=START_TIMEOUT)
        said = second.output.read_text(errors="replace")
        assert code == 1, said
        assert f"port {temporal_port} (Temporal gRPC" in said
        assert "is running" not in said
        assert not (second.data_dir / "postgres").exists()  # nothing started, not even PostgreSQL
    finally:
        await end(second)
    await until_ready(stack, "beside the second stack that failed")


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
        stack.child_pid(marker)
        for marker in ("start-dev", "workers.worker", "workers.api_server", "workers.codec_server")
    ]

    said_before = len(stack.output.read_bytes())
    os.killpg(stack.process.pid, signal.SIGINT)  # what Ctrl-C in its terminal does
    code = await asyncio.wait_for(stack.process.wait(), timeout=60)

    assert code == 0, stack.tail()
    said = stack.output.read_bytes()[said_before:].decode(errors="replace")
    # The terminal signalled every process: each child's exit is a stop, none is restarted.
    for name in ("temporal", "worker", "api", "codec"):
        assert re.search(rf"stack\.process_stopped\s.*process={name}\b", said), said
        assert not re.search(rf"stack\.process_(exited|restarted)\s.*process={name}\b", said), said
    assert [pid for pid in pids if not gone(pid)] == []
    assert processes_naming(str(stack.data_dir)) == []
    assert not (stack.data_dir / URL_FILE).exists()
