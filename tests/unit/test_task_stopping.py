"""A task that drops one cancellation (asyncio.wait_for's race on Python 3.11) is still stopped."""

import asyncio

from delivery.task_stopping import cancel_until_done


async def test_a_task_that_drops_a_cancellation_is_cancelled_again_until_it_ends() -> None:
    attempts = 0

    async def drops_the_first_cancellation() -> None:
        nonlocal attempts
        while True:
            attempts += 1
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                if attempts > 1:
                    raise
                # as wait_for does when the connection it waited for arrives with the cancellation

    task = asyncio.create_task(drops_the_first_cancellation())
    await asyncio.sleep(0)
    # asyncio.wait, not wait_for: its timeout must not cancel the stopping (and so the task) a second time
    stopping = asyncio.create_task(cancel_until_done(task, every=0.01))
    await asyncio.wait([stopping], timeout=5)
    assert stopping.done() and task.cancelled() and attempts == 2


async def test_a_task_that_ends_at_once_is_waited_for_once() -> None:
    task = asyncio.create_task(asyncio.sleep(0))
    await cancel_until_done(task)
    assert task.done()
