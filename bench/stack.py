"""The whole local stack for a benchmark: `python -m workers.stack`, as `make run` starts it (embedded
PostgreSQL, the Temporal dev server, one worker, the API), in a data folder and on ports of its own, so that a
developer's own stack is left alone; gone, with its folder, at the end."""

import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client

from config.settings import Settings
from config.temporal import connect
from tests.integration.local_stack_runs import Stack, end, launch, until_ready
from tests.integration.processes import free_port, wait_until

# The tests' 90 s for the stack to come up is short on a machine that other benchmarks load: a benchmark
# waits longer rather than failing before it measured anything.
START_TIMEOUT = 300.0


@dataclass
class BenchStack:
    stack: Stack
    api_key: str
    settings: Settings
    """The settings a client of this stack uses (its Temporal address, namespace and payload codec key)."""

    @property
    def api_url(self) -> str:
        return self.stack.api_url

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    async def temporal(self) -> Client:
        """A client of the stack's own Temporal server, with the stack's payload codec."""
        return await connect(self.settings)

    def worker_pid(self) -> int:
        return self.stack.child_pid("workers.worker")


async def _until_banner(stack: Stack) -> None:
    def started() -> bool:
        return stack.process.returncode is not None or "is running" in stack.output.read_text(
            errors="replace"
        )

    await wait_until("the stack's banner", started, timeout=START_TIMEOUT)
    assert stack.process.returncode is None, f"the stack exited; it said:\n{stack.tail()}"


@asynccontextmanager
async def local_stack(*, in_memory: bool = False, **settings: str) -> AsyncIterator[BenchStack]:
    """The demo-profile stack, its dev server's history in memory when `in_memory`; `settings` (DVR_...)
    added to its environment."""
    data_dir = Path(tempfile.mkdtemp(prefix="dvr-bench-"))
    temporal_port, ui_port, api_port = free_port(), free_port(), free_port()
    if in_memory:
        settings["DVR_TEMPORAL_DEV_SERVER_IN_MEMORY"] = "true"
    stack = await launch(
        data_dir / "stack.log", data_dir, temporal_port, ui_port, api_port, settings=settings
    )
    try:
        await _until_banner(stack)
        await until_ready(stack, "the benchmark's stack")
        key = (data_dir / "bootstrap-api-key").read_text().strip()
        client_settings = Settings(
            profile="demo", data_dir=data_dir, temporal_address=stack.temporal_address, _env_file=None
        )
        yield BenchStack(stack, key, client_settings)
    finally:
        await end(stack)
        shutil.rmtree(data_dir, ignore_errors=True)
