"""A stack killed with SIGKILL takes its processes with it, and the next start on the same ports and data
folder runs: it takes over the embedded PostgreSQL left running (a daemon) and overwrites the stale
database-url file."""

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
