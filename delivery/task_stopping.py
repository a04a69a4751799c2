"""Stopping a task that must stop: cancelled, and cancelled again until it has ended.

One cancellation is not always enough: on Python 3.11, `asyncio.wait_for` (which asyncpg's connect uses)
returns its inner result and drops a cancellation that arrives as that result does, so a loop that was
cancelled while it connected carries on. The sender's LISTEN loop did, and its process outlived SIGTERM.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

RECANCEL_SECONDS = 1.0


async def cancel_until_done(task: asyncio.Task[None], every: float = RECANCEL_SECONDS) -> None:
    """Cancels `task`, and again each `every` seconds it has not ended; returns once it has."""
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=every)
    with contextlib.suppress(asyncio.CancelledError):
        task.result()


@contextlib.asynccontextmanager
async def running_while(work: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Runs `work` in a task of its own while the block runs, and stops it (cancel_until_done) after."""
    task = asyncio.create_task(work)
    try:
        yield
    finally:
        await cancel_until_done(task)
