"""The stack's supervisor keeps a real child process running, backs off, and stops it for good; and keeps
watching a server it does not own (embedded PostgreSQL) through checks that fail."""

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from structlog.testing import capture_logs

from tests.integration.processes import gone, python_env, wait_until
from workers.supervisor import Backoff, Supervised, keep_running

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
# A child that stops at Ctrl-C even when the tests were started with SIGINT ignored (a shell's background job,
# `nohup`), which every child would inherit: as a child started from a terminal in the foreground does.
HEARS_CTRL_C = [
    sys.executable,
    "-c",
    "import signal, time; signal.signal(signal.SIGINT, signal.default_int_handler); time.sleep(600)",
]
FAILING = [sys.executable, "-c", "raise SystemExit(3)"]
QUICK = Backoff(first=0.05, longest=0.2, reset_after=60)


async def test_a_child_killed_with_sigkill_is_started_again_and_stop_leaves_no_process() -> None:
    supervised = Supervised("sleeper", SLEEPER, backoff=QUICK)
    await supervised.start()
    try:
        assert supervised.process is not None
        first = supervised.process.pid
        os.kill(first, signal.SIGKILL)
        await wait_until(
            "a new sleeper",
            lambda: supervised.running and supervised.process is not None and supervised.process.pid != first,
        )
        assert supervised.exits == 1
        assert gone(first)
        assert supervised.process is not None
        second = supervised.process.pid
    finally:
        await supervised.stop()
    assert gone(second)
    assert not supervised.running
    assert supervised.exits == 1


async def test_a_child_that_keeps_failing_is_started_again_each_time() -> None:
    supervised = Supervised("failing", FAILING, backoff=QUICK)
    await supervised.start()
    try:
        await wait_until("four exits", lambda: supervised.exits >= 4)
    finally:
        await supervised.stop()
    assert supervised.process is not None and supervised.process.returncode == 3


async def test_stop_during_the_back_off_starts_nothing_more() -> None:
    supervised = Supervised("failing", FAILING, backoff=Backoff(first=600))
    await supervised.start()
    assert supervised.process is not None
    first = supervised.process.pid
    await wait_until("the first exit", lambda: supervised.exits == 1)
    await supervised.stop()  # returns at once, though the restart was 600 s away
    assert supervised.process.pid == first
    assert supervised.exits == 1


async def test_stop_ends_a_child_that_ignores_sigterm_with_sigkill(tmp_path: Path) -> None:
    ready = tmp_path / "ignoring-sigterm"
    stubborn = [
        sys.executable,
        "-c",
        "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        " pathlib.Path(sys.argv[1]).touch(); time.sleep(600)",
        str(ready),
    ]
    supervised = Supervised("stubborn", stubborn, backoff=QUICK, stop_timeout=0.5)
    await supervised.start()
    assert supervised.process is not None
    pid = supervised.process.pid
    await wait_until("the child to ignore SIGTERM", ready.exists)
    await supervised.stop()
    assert gone(pid)
    assert supervised.process.returncode == -signal.SIGKILL
    assert supervised.exits == 0


async def test_a_check_that_fails_is_logged_without_its_text_and_the_watch_goes_on() -> None:
    checks: list[str] = []
    restarts: list[str] = []

    def is_running() -> bool:
        checks.append("check")
        if len(checks) == 1:
            raise RuntimeError("postmaster.pid of Jane Doe, born 1970-01-01")  # text a log must not carry
        return bool(restarts)

    stopping = asyncio.Event()
    with capture_logs() as logs:
        watch = asyncio.create_task(
            keep_running(
                "postgres",
                is_running,
                lambda: restarts.append("restart"),
                stopping,
                backoff=QUICK,
                check_every=0.01,
            )
        )
        try:
            await wait_until("a restart after the failed check", lambda: bool(restarts) or watch.done())
            await wait_until("another check after the restart", lambda: len(checks) >= 4 or watch.done())
        finally:
            stopping.set()
            await asyncio.wait_for(watch, timeout=10)
    assert restarts == ["restart"]
    failed = [line for line in logs if line["event"] == "stack.check_failed"]
    assert failed == [
        {"event": "stack.check_failed", "process": "postgres", "error": "RuntimeError", "log_level": "error"}
    ]
    assert "Jane" not in repr(logs)


async def test_a_child_that_exits_once_the_stack_shuts_down_is_logged_as_stopped_not_restarted() -> None:
    shutdown = asyncio.Event()
    supervised = Supervised("worker", HEARS_CTRL_C, backoff=QUICK, shutdown=shutdown)
    await supervised.start()
    assert supervised.process is not None
    pid = supervised.process.pid
    with capture_logs() as logs:
        try:
            shutdown.set()  # Ctrl-C: the stack shuts down, and the terminal signalled the child too
            for _ in range(30):
                # Again each second until it is gone: the first may come before the child hears SIGINT.
                with contextlib.suppress(ProcessLookupError):  # it exited, and was reaped, since the look
                    os.kill(pid, signal.SIGINT)
                with contextlib.suppress(AssertionError):
                    await wait_until("the child to exit", lambda: gone(pid), timeout=1.0)
                if gone(pid):
                    break
            assert gone(pid), "the child outlived 30 SIGINTs"
            await asyncio.sleep(0)  # the watch sees the exit
        finally:
            await supervised.stop()
    assert supervised.process.pid == pid  # nothing started again
    assert supervised.exits == 0
    events = [line["event"] for line in logs]
    assert "stack.process_exited" not in events
    assert "stack.process_restarted" not in events
    stopped = [line for line in logs if line["event"] == "stack.process_stopped"]
    assert [(s["process"], s["pid"], s["log_level"]) for s in stopped] == [("worker", pid, "info")]


async def test_a_child_dies_with_the_supervisor_killed_by_sigkill(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    supervisor = (  # a supervisor in its own process, whose child writes its pid then sleeps
        "import asyncio, sys\n"
        "from workers.supervisor import Supervised\n"
        "async def main():\n"
        "    child = [sys.executable, '-c', 'import os, sys, time; "
        'open(sys.argv[1], "w").write(str(os.getpid())); time.sleep(600)\', sys.argv[1]]\n'
        "    await Supervised('sleeper', child).start()\n"
        "    await asyncio.Event().wait()\n"
        "asyncio.run(main())\n"
    )
    await _orphan_gone_once_its_parent_is_killed(
        [supervisor, str(pid_file)], pid_file, lambda: pid_file.exists() and pid_file.read_text() != ""
    )


async def test_a_child_can_be_sent_sigterm_when_its_parent_is_killed(tmp_path: Path) -> None:
    """`die_with_parent(SIGTERM)`, as the tests' and benchmarks' runner starts a stack: a runner killed
    outright leaves the stack time to stop its own servers."""
    said = tmp_path / "child.said"
    child = (
        "import os, signal, sys, time\n"
        "def stop(*_):\n"
        "    open(sys.argv[1], 'a').write('SIGTERM')\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "open(sys.argv[1], 'w').write(str(os.getpid()) + ' ')\n"
        "time.sleep(600)\n"
    )
    parent = (  # a runner in its own process, whose child asked for SIGTERM at its death
        "import asyncio, signal, sys\n"
        "from workers.supervisor import die_with_parent\n"
        "async def main():\n"
        "    await asyncio.create_subprocess_exec(\n"
        "        sys.executable, '-c', sys.argv[1], sys.argv[2], preexec_fn=die_with_parent(signal.SIGTERM)\n"
        "    )\n"
        "    await asyncio.Event().wait()\n"
        "asyncio.run(main())\n"
    )
    await _orphan_gone_once_its_parent_is_killed(
        [parent, child, str(said)], said, lambda: said.exists() and said.read_text().endswith(" ")
    )
    assert said.read_text().endswith("SIGTERM")  # it was told, and stopped by itself


async def _orphan_gone_once_its_parent_is_killed(
    parent: list[str], pid_file: Path, written: Callable[[], bool]
) -> None:
    """Runs `python -c *parent`, whose child writes its pid to `pid_file` (`written` says when), SIGKILLs
    the parent, and waits until the orphaned child is gone (killing it at the end if it is not)."""
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", *parent, env=python_env())
    try:
        await wait_until("the child's pid", written)
        child = int(pid_file.read_text())  # noqa: ASYNC240 - a few bytes, in a test
        assert not gone(child)
    finally:
        process.kill()
        await process.wait()
    try:
        await wait_until("the orphaned child to be gone", lambda: gone(child), timeout=10)
    finally:
        if not gone(child):
            os.kill(child, signal.SIGKILL)
