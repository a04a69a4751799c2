"""Ctrl-C during the stack's start-up stops the start at once instead of after it."""

import asyncio

import pytest

from workers.stack import StopRequested, unless_stopped


async def test_a_stop_cancels_the_start_up_step_under_way() -> None:
    stopping = asyncio.Event()
    step = asyncio.ensure_future(asyncio.Event().wait())  # a start-up step that would wait forever
    asyncio.get_running_loop().call_soon(stopping.set)
    with pytest.raises(StopRequested):
        await unless_stopped(step, stopping)
    assert step.cancelled()


async def test_a_step_that_finishes_first_gives_its_result() -> None:
    async def step() -> str:
        return "ready"

    assert await unless_stopped(step(), asyncio.Event()) == "ready"
