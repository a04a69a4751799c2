"""Running a long command (a benchmark, the fault suite, the simulator) so that a SIGTERM or SIGHUP (`kill`,
a CI time limit, a closed terminal) stops it as Ctrl-C does: its main coroutine is cancelled, so the stacks,
servers and folders it started are stopped and removed on the way out instead of running on."""

import asyncio
import signal
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def run_stoppable(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`; on SIGTERM or SIGHUP, `main` is cancelled, and once it has unwound the process
    exits with 128 + the signal's number, as a process the signal had ended."""
    received: list[int] = []

    async def stoppable() -> T:
        task = asyncio.current_task()
        assert task is not None

        def stop(number: int) -> None:
            received.append(number)
            task.cancel()

        for number in STOP_SIGNALS:
            asyncio.get_running_loop().add_signal_handler(number, stop, number)
        return await main

    try:
        return asyncio.run(stoppable())
    except asyncio.CancelledError:
        if not received:
            raise
        print(f"stopped by {signal.Signals(received[0]).name}", file=sys.stderr, flush=True)
        sys.exit(128 + received[0])
