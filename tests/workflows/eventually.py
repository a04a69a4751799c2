"""Waiting, bounded, for what the workflow does in the background (messages sent, a view that moves on).

The bound is generous: a test that passes waits only as long as the work takes, and a loaded machine (CI
runs the suite on two busy cores) must not turn a slow moment into a failure."""

import asyncio
import time
from collections.abc import Callable

WAIT_SECONDS = 30.0
POLL_SECONDS = 0.025


async def eventually(check: Callable[[], bool], seconds: float = WAIT_SECONDS) -> bool:
    """True as soon as `check()` holds; False if it has not within `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(POLL_SECONDS)
    return True
