"""Running a long command (a benchmark, the fault suite, the simulator) so that a SIGTERM or SIGHUP (`kill`,
a CI time limit, a closed terminal) stops it as Ctrl-C does: its main coroutine is cancelled, so the stacks,
servers and folders it started are stopped and removed on the way out instead of running on."""

import asyncio
import os
import signal
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def run_stoppable(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`; on SIGTERM or SIGHUP, `main` is cancelled, and once it has unwound the process
    ends by that signal, as it would have without the clean-up. A second signal while it unwinds is noted
    and ignored: cancelling again would cut the clean-up short."""
    received: list[signal.Signals] = []

    async def stoppable() -> T:
        task = asyncio.current_task()
        assert task is not None

        def stop(number: signal.Signals) -> None:
            if received:
                print(f"{number.name}: already stopping", file=sys.stderr, flush=True)
                return
            received.append(number)
            print(f"stopping on {number.name}...", file=sys.stderr, flush=True)
            task.cancel()

        for number in STOP_SIGNALS:
            asyncio.get_running_loop().add_signal_handler(number, stop, number)
        return await main

    try:
        return asyncio.run(stoppable())
    except asyncio.CancelledError:
        if not received:
            raise
        print(f"stopped by {received[0].name}", file=sys.stderr, flush=True)
        signal.signal(received[0], signal.SIG_DFL)
        os.kill(os.getpid(), received[0])
        raise  # not reached: the signal ends the process
