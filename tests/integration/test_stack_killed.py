"""A stack killed with SIGKILL takes its processes with it, and the next start on the same ports and data
folder runs: it takes over the embedded PostgreSQL left running (a daemon) and overwrites the stale
database-url file."""

import asyncio
import os
import signal
from pathlib import Path

from config.database import URL_FILE
from tests.integration.local_stack_runs import end, launch, until_banner, until_ready
from tests.integration.processes import free_port, gone, wait_until

GONE_TIMEOUT = 15.0


async def test_a_stack_killed_with_sigkill_leaves_no_process_and_the_next_start_runs(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ports = (free_port(), free_port(), free_port())
    first = await launch(tmp_path / "first.log", data_dir, *ports)
    children: dict[str, int] = {}
    try:  # on success, its PostgreSQL is left running for the second start to take over
        await until_banner(first)
        children = {
            m: first.child_pid(m)
            for m in ("start-dev", "workers.worker", "workers.api_server", "workers.codec_server")
        }
        postgres = first.postgres_pid()
        assert postgres is not None
        (data_dir / URL_FILE).write_text("postgresql://stale@/nowhere\n")  # as an older run might leave it

        os.kill(first.process.pid, signal.SIGKILL)
        await first.process.wait()
        await wait_until(
            "every child of the killed stack to die with it",
            lambda: all(gone(pid) for pid in children.values()),
            timeout=GONE_TIMEOUT,
        )
    except BaseException:
        for pid in (
            children.values()
        ):  # orphans that outlived it: the worker, API and codec server do not name the folder
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
        await end(first)
        raise

    second = await launch(tmp_path / "second.log", data_dir, *ports)
    try:
        await until_banner(second)
        await until_ready(second, "the start after a stack killed with SIGKILL")
        assert second.postgres_pid() == postgres  # taken over, not started beside
        url = (data_dir / URL_FILE).read_text()
        assert "stale" not in url
        assert url.startswith("postgresql://")
    finally:
        await end(second)
    assert gone(postgres)


async def test_a_stack_stopped_while_its_postgresql_starts_stops_that_postgresql_too(tmp_path: Path) -> None:
    """SIGTERM (a runner that died, a CI time limit) while the embedded PostgreSQL of a new data folder
    starts: the stack waits for it, then stops it with the rest and exits 0, instead of ending at once and
    leaving the PostgreSQL daemon running."""
    data_dir = tmp_path / "data"
    stack = await launch(tmp_path / "stack.log", data_dir, free_port(), free_port(), free_port())
    try:
        while (postgres := _postmaster(data_dir)) is None:  # up; the stack still waits for it to answer
            assert stack.process.returncode is None, stack.tail()
            await asyncio.sleep(0.01)
        stack.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(stack.process.wait(), timeout=60) == 0, stack.tail()
        await wait_until("its PostgreSQL to stop", lambda: gone(postgres), timeout=GONE_TIMEOUT)
    finally:
        await end(stack)


def _postmaster(data_dir: Path) -> int | None:
    """The PostgreSQL server's pid once it runs (initdb's single-user backend writes its own negated)."""
    try:
        pid = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    return pid if pid > 0 else None
