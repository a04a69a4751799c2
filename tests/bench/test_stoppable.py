"""A long command stopped by SIGTERM or SIGHUP (a `kill`, a CI time limit, a closed terminal) stops what it
started, as Ctrl-C does, instead of leaving it running: shown with a command that starts a child process and
stops it on the way out, as the fault suite's rig and the benchmarks' stacks do."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

COMMAND = textwrap.dedent(
    """
    import asyncio, sys
    from bench.stoppable import run_stoppable

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


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stop_signal_unwinds_the_command_and_stops_what_it_started(stop: signal.Signals) -> None:
    command, child = _start(cleanup_seconds=0)
    command.send_signal(stop)
    _, stderr = command.communicate(timeout=30)
    assert not _alive(child)
    assert command.returncode == -stop  # ended by the signal, as without the clean-up
    assert f"stopped by {stop.name}" in stderr


def test_a_second_signal_does_not_cut_the_clean_up_short() -> None:
    """As when a CI job is cancelled: SIGTERM, then another before the first has been dealt with."""
    command, child = _start(cleanup_seconds=1)
    command.send_signal(signal.SIGTERM)
    assert command.stdout is not None
    assert command.stdout.readline() == "cleaning up\n"
    command.send_signal(signal.SIGHUP)
    _, stderr = command.communicate(timeout=30)
    assert not _alive(child)
    assert "SIGHUP: already stopping" in stderr and "stopped by SIGTERM" in stderr
    assert command.returncode == -signal.SIGTERM


def _start(*, cleanup_seconds: float) -> tuple["subprocess.Popen[str]", int]:
    """The command, and its child once it has started it."""
    command = subprocess.Popen(
        [sys.executable, "-c", COMMAND, str(cleanup_seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert command.stdout is not None
    child = int(command.stdout.readline())
    assert _alive(child)
    return command, child
