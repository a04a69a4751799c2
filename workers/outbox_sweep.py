"""The outbox sweep: marks abandoned the messages no attempt can send any more (db/outbox.py).

A workflow may move on without a message whose send is waiting for its retry: a relief check returns its
verdict without waiting on delivery (workflows/relief_check.py), and an operator may terminate a workflow.
Nothing would then ever settle the message's row, and it would stay pending for good, the oldest unsent
message on the operations gauges. Every send is bounded by the activity's schedule-to-close timeout, which
the Temporal server enforces across all its retries, and a row is made by the send's first attempt: once
that bound (and a margin for the two servers' clocks) has passed since the row was made, no attempt is left.

It runs inside the worker process (workers/worker.py); several workers may sweep at once, as the update
changes only rows still unsettled. A database that does not answer is logged (a warning; any other
database error, an error), and the next round tries again. A pathway reset from the Temporal admin UI to a
point more than 75 minutes back sends its messages again under their old keys: one abandoned meanwhile is
not sent (the workflow takes it as failed and shows staff that a message was not delivered).
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg
import structlog

from db import outbox
from db.outages import DATABASE_OUTAGES
from delivery.task_stopping import running_while
from workflows.activity_options import MESSAGE

log = structlog.get_logger()

ABANDONED_AFTER = MESSAGE.schedule_to_close + timedelta(minutes=15)
"""Since the row was made: past the last retry of its send, with a margin for clocks."""
SWEEP_EVERY = timedelta(minutes=5)
REASON = "no attempt left: the workflow went on without this message"


async def sweep_once(pool: asyncpg.Pool, made_before: timedelta = ABANDONED_AFTER) -> int:
    """One round; returns how many messages it marked abandoned."""
    abandoned = await outbox.abandon_unreachable(pool, made_before, REASON)
    if abandoned:
        log.warning("outbox.abandoned", messages=abandoned)
    return abandoned


async def sweep(pool: asyncpg.Pool, every: timedelta = SWEEP_EVERY) -> None:
    """A round now, then one every `every`, until cancelled."""
    while True:
        try:
            await sweep_once(pool)
        except DATABASE_OUTAGES as err:
            log.warning("outbox.sweep_failed", error=type(err).__name__)
        except asyncpg.PostgresError as err:  # not expected (a database without migration 026, say)
            log.error("outbox.sweep_failed", error=type(err).__name__)
        await asyncio.sleep(every.total_seconds())


@asynccontextmanager
async def running_sweep(pool: asyncpg.Pool, every: timedelta = SWEEP_EVERY) -> AsyncIterator[None]:
    """Sweeps while the block runs."""
    async with running_while(sweep(pool, every)):
        yield
