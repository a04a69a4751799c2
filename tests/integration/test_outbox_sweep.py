"""The outbox sweep: a message no attempt can send any more is marked abandoned, and only such a message."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.exceptions import ApplicationError

from activities.notifications import NotificationActivities
from db.ops_counts import outbox_counts
from db.outbox import OutboxStatus
from domain.notifications import NotificationRequest, Recipient, UndeliveredMessage
from tests.integration.conftest import RecordingProvider
from tests.integration.fresh_database import fresh_pool
from workers.outbox_sweep import ABANDONED_AFTER, REASON, running_sweep, sweep, sweep_once
from workflows.activity_options import MESSAGE

OLD = ABANDONED_AFTER + timedelta(minutes=5)  # past the last retry's bound
RECENT = MESSAGE.schedule_to_close - timedelta(minutes=5)  # its send may still be retried


@pytest.fixture
async def fresh(database: str) -> AsyncIterator[asyncpg.Pool]:
    """A database of its own: the sweep changes every row it matches, and its gauge counts them all."""
    async with fresh_pool(database, max_size=2) as pool:
        yield pool


async def _row(pool: asyncpg.Pool, status: str, age: timedelta, *, claim_for: timedelta | None = None) -> str:
    """A staff message's row made `age` ago in `status`; one being sent holds a claim until now + claim_for
    (negative: lapsed). Every row here has an attempt whose outcome nobody learnt."""
    key = f"pathway-sweep:{uuid.uuid4()}"
    await pool.execute(
        "insert into outbox (message_key, pathway_id, recipient, template, status, created_at, attempts,"
        " unsettled_since, claimed_until, claim_token)"
        " values ($1, 'pathway-sweep', 'staff', 'staff_attention', $2, now() - $3::interval, 1,"
        " now() - $3::interval, now() + $4::interval, $5)",
        key,
        status,
        age,
        claim_for,
        uuid.uuid4() if claim_for is not None else None,
    )
    return key


async def _state(pool: asyncpg.Pool, key: str) -> dict[str, Any]:
    row = await pool.fetchrow(
        "select status, last_error, claim_token, unsettled_since is not null as unsettled"
        " from outbox where message_key = $1",
        key,
    )
    assert row is not None
    return dict(row)


async def test_the_sweep_abandons_only_what_no_attempt_can_send(fresh: asyncpg.Pool) -> None:
    left_behind = await _row(fresh, "pending", OLD)
    crashed = await _row(fresh, "sending", OLD, claim_for=-timedelta(minutes=1))
    kept = {
        await _row(fresh, "pending", RECENT): "pending",  # its retry may yet come
        await _row(fresh, "sending", OLD, claim_for=timedelta(minutes=1)): "sending",  # an attempt holds it
        await _row(fresh, "sent", OLD): "sent",
        await _row(fresh, "failed", OLD): "failed",
        await _row(fresh, "suppressed", OLD): "suppressed",
    }

    assert await sweep_once(fresh) == 2
    for key in (left_behind, crashed):
        # The doubt stays on record: an attempt may have reached the provider.
        assert await _state(fresh, key) == {
            "status": "abandoned",
            "last_error": REASON,
            "claim_token": None,
            "unsettled": True,
        }
    for key, status in kept.items():
        assert (await _state(fresh, key))["status"] == status
    assert await sweep_once(fresh) == 0


async def test_an_abandoned_message_leaves_the_oldest_unsent_gauge_for_a_count_of_its_own(
    fresh: asyncpg.Pool,
) -> None:
    await _row(fresh, "pending", OLD)
    before = await outbox_counts(fresh, timeout=5)
    assert before.by_status[OutboxStatus.PENDING] == 1
    assert before.oldest_unsent_age_seconds >= OLD.total_seconds()

    await sweep_once(fresh)
    after = await outbox_counts(fresh, timeout=5)
    assert after.by_status[OutboxStatus.PENDING] == 0 and after.oldest_unsent_age_seconds == 0
    assert after.by_status[OutboxStatus.ABANDONED] == 1  # counted under its own label


async def test_an_abandoned_message_is_never_sent_and_a_late_give_up_marks_it_failed(
    pool: asyncpg.Pool,
) -> None:
    # A workflow given the message's timeout late (its worker was down) gives it up as usual.
    request = NotificationRequest(
        key=f"pathway-sweep:{uuid.uuid4()}",
        pathway_id="pathway-sweep",
        recipient=Recipient.STAFF,
        patient_ref=None,
        template="staff_attention",
        params={"pathway_id": "pathway-sweep", "reason": "test"},
    )
    await pool.execute(
        "insert into outbox (message_key, pathway_id, recipient, template, params, status)"
        " values ($1, $2, 'staff', $3, $4, 'abandoned')",
        request.key,
        request.pathway_id,
        request.template,
        request.params,
    )
    provider = RecordingProvider()
    activities = NotificationActivities(pool, provider, "staff@clinic.example")
    with pytest.raises(ApplicationError) as refused:
        await activities.send_notification(request)
    assert refused.value.type == "MessageFailed" and refused.value.non_retryable
    assert provider.sent == []

    await activities.record_undelivered(UndeliveredMessage(key=request.key, reason="every attempt failed"))
    assert (await _state(pool, request.key))["status"] == "failed"


async def test_a_running_sweep_sweeps_as_it_starts(fresh: asyncpg.Pool) -> None:
    key = await _row(fresh, "pending", OLD)
    async with running_sweep(fresh):
        await _until_abandoned(fresh, key)


async def test_a_round_the_database_did_not_answer_is_tried_again(fresh: asyncpg.Pool) -> None:
    key = await _row(fresh, "pending", OLD)

    class OnceDown:
        """The pool, but its first statement finds the database unreachable."""

        def __init__(self) -> None:
            self.refused = 0

        async def execute(self, *args: Any, **kwargs: Any) -> str:
            if not self.refused:
                self.refused += 1
                raise OSError("connection refused")
            return str(await fresh.execute(*args, **kwargs))

    down = OnceDown()
    task = asyncio.create_task(sweep(down, every=timedelta(0)))  # type: ignore[arg-type]
    try:
        await _until_abandoned(fresh, key)
    finally:
        task.cancel()
    assert down.refused == 1


async def _until_abandoned(pool: asyncpg.Pool, key: str) -> None:
    """Waits (bounded: 10 s) for the sweep, which runs in the background, to mark the message."""
    for _ in range(100):
        if (await _state(pool, key))["status"] == "abandoned":
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the message was never marked abandoned")
