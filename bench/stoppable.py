"""Running a long command (a benchmark, the fault suite, the simulator) so that Ctrl-C, SIGTERM or SIGHUP
(`kill`, a CI time limit, a closed terminal) stops it cleanly: its main coroutine is cancelled, so the
stacks, servers and folders it started are stopped and removed on the way out instead of running on."""

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_stoppable(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`; on SIGINT, SIGTERM or SIGHUP, `main` is cancelled, and once it has unwound the
    process ends by that signal, as it would have without the clean-up. Any signal after the first is
    ignored: cancelling again would cut the clean-up short (a cancelled CI job sends SIGINT, then SIGTERM)."""
    received: list[signal.Signals] = []

    async def stoppable() -> T:
        task = asyncio.current_task()
        assert task is not None

        def stop(number: signal.Signals) -> None:
            if received:
                _say(f"{number.name}: already stopping")
                return
            received.append(number)
            task.cancel()
            _say(f"stopping on {number.name}...")

        for number in STOP_SIGNALS:  # SIGINT too: asyncio.run's own handler would cancel again
            asyncio.get_running_loop().add_signal_handler(number, stop, number)
        return await main

    try:
        return asyncio.run(stoppable())
    except asyncio.CancelledError:
        if not received:
            raise
        _say(f"stopped by {received[0].name}")
        sys.stdout.flush()
        signal.signal(received[0], signal.SIG_DFL)
        os.kill(os.getpid(), received[0])
        raise  # not reached: the signal ends the process


def _say(text: str) -> None:
    """To stderr, if it can still be written (a closed terminal, a broken pipe): a stop never fails on it."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr, flush=True)
