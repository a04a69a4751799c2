"""The demo stack under test (`python -m workers.stack`, as tests/integration/local_stack_runs.py runs it) in
a temporary folder, pointed at the suite's SMS gateway and SMTP server; with PostgreSQL of the suite's own
behind a TCP proxy when a scenario takes the database away. Gone, with its folder, at the end."""

import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import asyncpg

from bench.figures import RESULTS
from config.database import URL_FILE
from db.bootstrap import KEY_FILE
from db.embedded import EmbeddedPostgres
from faults.api import ApiClient
from faults.proxy import PostgresProxy
from faults.receivers import SmsGateway, SmtpServer, stack_settings
from tests.integration.local_stack_runs import Stack, end, launch, until_ready
from tests.integration.processes import free_port, gone, wait_until

LAUNCH_TRIES = 3
READY_TIMEOUT = 120.0
START_TIMEOUT = 300.0
LOGS = RESULTS / "faults-logs"
"""Where the stack's output is kept when a scenario fails (not committed, as the figures)."""


class StackExited(Exception):
    """The stack exited during its start-up."""


class Rig:
    def __init__(self, data_dir: Path, gateway: SmsGateway, smtp: SmtpServer) -> None:
        self.data_dir = data_dir
        self.gateway = gateway
        self.smtp = smtp
        self.ports = (free_port(), free_port(), free_port())
        self.settings: dict[str, str] = {}
        self.proxy: PostgresProxy | None = None
        self.database_url = ""
        """PostgreSQL itself, not through the proxy: what the checks read."""
        self.stack: Stack | None = None
        self.launches = 0
        """Stacks started, counting a start-up given up on and tried again."""

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports[2]}"

    @property
    def temporal_address(self) -> str:
        """The stack's Temporal server (the checks ask it what is still running)."""
        return f"127.0.0.1:{self.ports[0]}"

    def api(self) -> ApiClient:
        key = (self.data_dir / KEY_FILE).read_text().strip()
        return ApiClient(self.api_url, {"Authorization": f"Bearer {key}"})

    async def launch(self) -> None:
        """Starts the stack (again, on the same folder and ports after a kill) and waits until it is ready. A
        stack that gives up during its own start-up (its servers not ready within its 60 s, on a loaded
        machine) is started again, up to LAUNCH_TRIES times."""
        for attempt in range(1, LAUNCH_TRIES + 1):
            try:
                await self._launch_once()
                return
            except StackExited:
                if attempt == LAUNCH_TRIES:
                    raise
                print(f"the stack gave up during start-up; starting it again ({attempt})", file=sys.stderr)

    async def _launch_once(self) -> None:
        self.launches += 1
        output = self.data_dir / f"stack-{self.launches}.log"
        stack = self.stack = await launch(output, self.data_dir, *self.ports, settings=self.settings)

        def started() -> bool:  # as until_banner, given longer: the machines the suite runs on are shared
            return stack.process.returncode is not None or "is running" in stack.output.read_text(
                "utf-8", "replace"
            )

        await wait_until("the stack's banner", started, timeout=START_TIMEOUT)
        if stack.process.returncode is not None:
            raise StackExited(f"the stack exited; it said:\n{stack.tail()}")
        await until_ready(stack, "the fault suite's stack")
        if self.proxy is None:
            self.database_url = (self.data_dir / URL_FILE).read_text().strip()

    def worker_pid(self) -> int:
        assert self.stack is not None
        return self.stack.child_pid("workers.worker")

    async def kill_worker(self) -> float:
        """SIGKILLs the worker; returns when (monotonic); the stack's supervisor starts another."""
        os.kill(self.worker_pid(), signal.SIGKILL)
        return time.monotonic()

    async def kill_stack(self) -> float:
        """SIGKILLs the stack's supervisor; its children die with it (PR_SET_PDEATHSIG); PostgreSQL, a
        daemon, lives on."""
        stack = self.stack
        assert stack is not None
        children = [
            stack.child_pid(m) for m in ("start-dev", "workers.worker", "workers.api_server", "codec_server")
        ]
        os.kill(stack.process.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        await stack.process.wait()
        await wait_until("the killed stack's children to die", lambda: all(map(gone, children)), timeout=30)
        return killed_at

    async def until_ready(self, api: ApiClient) -> float:
        """Waits until /readyz answers 200; returns when (monotonic)."""
        deadline = time.monotonic() + READY_TIMEOUT
        while not await api.ready():
            if time.monotonic() > deadline:
                raise TimeoutError("/readyz never answered 200")
            await asyncio.sleep(0.2)
        return time.monotonic()

    async def connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.database_url)


def unix_socket(url: str) -> str:
    """The unix socket of an embedded server's URL (postgresql://user:@/db?host=<folder>)."""
    parsed = urlparse(url)
    folder = parse_qs(parsed.query)["host"][0]
    return f"{folder}/.s.PGSQL.{parsed.port or 5432}"


def keep_logs(data_dir: Path) -> Path:
    kept = LOGS / data_dir.name
    kept.mkdir(parents=True, exist_ok=True)
    for log in data_dir.glob("stack-*.log"):
        shutil.copy(log, kept / log.name)
    return kept


@asynccontextmanager
async def rig(*, own_postgres: bool = False) -> AsyncIterator[Rig]:
    """The stack with its receivers, started; `own_postgres`: on a PostgreSQL of the suite's own, reached
    through the proxy (rig.proxy)."""
    data_dir = Path(tempfile.mkdtemp(prefix="dvr-faults-"))
    gateway, smtp = SmsGateway(), SmtpServer()
    postgres: EmbeddedPostgres | None = None
    postgres_dir: Path | None = None
    setup = Rig(data_dir, gateway, smtp)
    try:
        await gateway.start()
        smtp.start()
        setup.settings = stack_settings(gateway.base_url, smtp.port, setup.api_url)
        if own_postgres:
            # Outside the stack's folder: the stack's clean-up ends every process that names its folder.
            postgres_dir = Path(tempfile.mkdtemp(prefix="dvr-faults-pg-"))
            postgres = EmbeddedPostgres(postgres_dir / "data")
            setup.database_url = postgres.url
            setup.proxy = PostgresProxy(unix_socket(postgres.url))
            await setup.proxy.start()
            user = urlparse(postgres.url).username or "postgres"
            database = urlparse(postgres.url).path.lstrip("/") or "postgres"
            setup.settings["DATABASE_URL"] = f"postgresql://{user}@127.0.0.1:{setup.proxy.port}/{database}"
        await setup.launch()
        yield setup
    except BaseException:
        if setup.stack is not None:  # what the stack said, kept to see why (its folder goes below)
            kept = keep_logs(data_dir)
            print(f"the stack's output is kept in {kept}; it ended:\n{setup.stack.tail()}", file=sys.stderr)
        raise
    finally:
        if setup.stack is not None:
            await end(setup.stack)
        if setup.proxy is not None:
            await setup.proxy.stop()
        if postgres is not None:
            postgres.stop()
        if postgres_dir is not None:
            shutil.rmtree(postgres_dir, ignore_errors=True)
        smtp.stop()
        await gateway.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
