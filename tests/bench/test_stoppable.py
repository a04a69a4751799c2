"""A long command stopped by Ctrl-C, SIGTERM or SIGHUP (a `kill`, a CI time limit, a closed terminal) stops
what it started instead of leaving it running, and then ends by that signal: shown with a command that
starts a child process and stops it on the way out, as the fault suite's rig and the benchmarks' stacks
do."""

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import pytest

COMMAND = textwrap.dedent(
    """
    import asyncio, signal, sys
    from bench.stoppable import run_stoppable

    # As from a terminal, whatever this test runs under (a background job starts with SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for ignored in sys.argv[2:]:  # as `nohup` would
        signal.signal(getattr(signal, ignored), signal.SIG_IGN)

    async def main() -> None:
        quiet = asyncio.subprocess.DEVNULL  # holds none of the command's pipes open
        child = await asyncio.create_subprocess_exec("sleep", "300", stdout=quiet, stderr=quiet)
        try:
            print(child.pid, flush=True)
            await asyncio.Event().wait()
        finally:
            print("cleaning up", flush=True)
            await asyncio.sleep(float(sys.argv[1]))  # a clean-up that takes a while, as stopping a stack does
            child.kill()
            await child.wait()
            print("cleaned up", flush=True)

    run_stoppable(main())
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that has exited but not been reaped by anyone is a zombie: gone for our purpose.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


def _line_with(stream: IO[str], text: str, seconds: float = 30) -> bool:
    """Reads `stream`'s pipe until it holds `text` (True), or `seconds` pass without it (False). Read from the
    file descriptor: the text wrapper's buffer would hide lines from `select`."""
    deadline, seen = time.monotonic() + seconds, b""
    while text.encode() not in seen and (left := deadline - time.monotonic()) > 0:
        if not select.select([stream.fileno()], [], [], left)[0]:
            return False
        chunk = os.read(stream.fileno(), 4096)
        if not chunk:
            return False
        seen += chunk
    return text.encode() in seen


@contextmanager
def _command(
    *, cleanup_seconds: float, ignoring: tuple[str, ...] = ()
) -> Iterator[tuple["subprocess.Popen[str]", int]]:
    """The command, and its child once it has started it; both killed at the end if still there."""
    command = subprocess.Popen(
        [sys.executable, "-c", COMMAND, str(cleanup_seconds), *ignoring],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert command.stdout is not None
    child = int(command.stdout.readline())
    try:
        assert _alive(child)
        yield command, child
    finally:
        for pid in (command.pid, child):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        command.wait()


@pytest.mark.parametrize(
    "stop", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"]
)
def test_a_stop_signal_unwinds_the_command_and_stops_what_it_started(stop: signal.Signals) -> None:
    with _command(cleanup_seconds=0) as (command, child):
        command.send_signal(stop)
        _, stderr = command.communicate(timeout=30)
        assert not _alive(child)
        assert command.returncode == -stop  # ended by the signal, as without the clean-up
        assert f"stopped by {stop.name}" in stderr


@pytest.mark.parametrize(
    ("first", "second"),
    [(signal.SIGINT, signal.SIGTERM), (signal.SIGTERM, signal.SIGINT), (signal.SIGTERM, signal.SIGHUP)],
    ids=["SIGINT-then-SIGTERM", "SIGTERM-then-SIGINT", "SIGTERM-then-SIGHUP"],
)
def test_a_second_signal_does_not_cut_the_clean_up_short(
    first: signal.Signals, second: signal.Signals
) -> None:
    """As when a CI job is cancelled: SIGINT, then SIGTERM before the first has been dealt with."""
    with _command(cleanup_seconds=3) as (command, child):
        command.send_signal(first)
        assert command.stdout is not None
        assert command.stdout.readline() == "cleaning up\n"
        command.send_signal(second)
        stdout, stderr = command.communicate(timeout=30)
        assert not _alive(child)
        assert "cleaned up" in stdout
        assert f"{second.name}: already stopping" in stderr and f"stopped by {first.name}" in stderr
        assert command.returncode == -first


def test_a_third_signal_stops_a_clean_up_that_hangs_at_once() -> None:
    with _command(cleanup_seconds=300) as (command, _):
        command.send_signal(signal.SIGTERM)
        assert command.stdout is not None
        assert command.stdout.readline() == "cleaning up\n"
        command.send_signal(signal.SIGTERM)
        # Two signals pending at once arrive lowest number first: the third is sent once the second is in.
        assert command.stderr is not None
        assert _line_with(command.stderr, "SIGTERM: already stopping")
        command.send_signal(signal.SIGINT)
        command.wait(timeout=30)
        assert command.returncode == -signal.SIGINT


def test_a_signal_the_command_was_started_ignoring_stays_ignored() -> None:
    """As under `nohup`: a closed terminal does not stop it; SIGTERM still does."""
    with _command(cleanup_seconds=0, ignoring=("SIGHUP",)) as (command, child):
        command.send_signal(signal.SIGHUP)
        with pytest.raises(subprocess.TimeoutExpired):
            command.wait(timeout=1)
        assert _alive(child)
        command.send_signal(signal.SIGTERM)
        command.wait(timeout=30)
        assert not _alive(child) and command.returncode == -signal.SIGTERM


def test_a_stop_with_no_terminal_left_to_write_to_still_cleans_up() -> None:
    """SIGHUP: the terminal has closed, so the command's notes on stderr cannot be written."""
    with _command(cleanup_seconds=0) as (command, child):
        assert command.stderr is not None
        command.stderr.close()
        command.send_signal(signal.SIGHUP)
        command.wait(timeout=30)
        assert not _alive(child)
        assert command.returncode == -signal.SIGHUP
