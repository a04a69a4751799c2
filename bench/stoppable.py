"""Running a long command (a benchmark, the fault suite, the simulator) so that Ctrl-C, SIGTERM or SIGHUP
(`kill`, a CI time limit, a closed terminal) stops it cleanly: its main coroutine is cancelled, so the
stacks, servers and folders it started are stopped and removed on the way out instead of running on."""

import asyncio
import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

T = TypeVar("T")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
AT_ONCE = 3
"""The signal that stops the command at once, without its clean-up (a clean-up that hangs)."""


def run_stoppable(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`; on SIGINT, SIGTERM or SIGHUP, `main` is cancelled, and once it has unwound the
    process ends by that signal, as it would have without the clean-up. A second signal is ignored:
    cancelling again would cut the clean-up short (a cancelled CI job sends SIGINT, then SIGTERM); a third
    ends the process at once. A signal the command was started ignoring (`nohup`, a script's `cmd &`) stays
    ignored."""
    received: list[signal.Signals] = []

    async def stoppable() -> T:
        task = asyncio.current_task()
        assert task is not None

        def stop(number: signal.Signals) -> None:
            received.append(number)
            if len(received) == 1:
                task.cancel()
                _say(f"stopping on {number.name}...")
            elif len(received) < AT_ONCE:
                _say(f"{number.name}: already stopping (once more to stop at once, without cleaning up)")
            else:
                _end_by(number)

        for number in STOP_SIGNALS:  # SIGINT too: asyncio.run's own handler would cancel again
            if signal.getsignal(number) != signal.SIG_IGN:
                asyncio.get_running_loop().add_signal_handler(number, stop, number)
        return await main

    try:
        result = asyncio.run(stoppable())
    except BaseException:
        if not received:
            raise
        if not isinstance(sys.exc_info()[1], asyncio.CancelledError):  # the clean-up failed: say how
            with contextlib.suppress(OSError, ValueError):
                traceback.print_exc()
        _end_by(received[0])
    if received:  # it came as `main` ended: what it started is stopped, and the command still stops
        _end_by(received[0])
    return result


def _end_by(number: signal.Signals) -> NoReturn:
    """Ends the process by the signal, as it would have ended without a handler."""
    _say(f"stopped by {number.name}")
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    signal.signal(number, signal.SIG_DFL)
    os.kill(os.getpid(), number)
    os._exit(128 + number)  # not reached: the signal ends the process first


def _say(text: str) -> None:
    """To stderr, if it can still be written (a closed terminal, a broken pipe): a stop never fails on it."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr, flush=True)
