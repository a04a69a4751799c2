"""A claim (an Idempotency-Key, a referral's first request) made while another request holds the same one
uncommitted waits for it, and then finds that request's row: it neither stores a second one nor fails.

db/idempotency.py and db/referrals.py claim in one statement, whose snapshot predates the row it waited
for; these hold them to finding that row all the same."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import asyncpg

from db.idempotency import remember_key
from db.patients import register_patient
from db.pool import Connection
from db.referrals import remember_referral
from domain.referral import Referral
from tests.referrals import referral_body

T = TypeVar("T")


async def _waiting_on_a_lock(pool: asyncpg.Pool, table: str) -> None:
    deadline = asyncio.get_running_loop().time() + 30
    while not await pool.fetchval(
        "select exists (select from pg_stat_activity where wait_event_type = 'Lock' and query like $1)",
        f"%insert into {table}%",
    ):
        assert asyncio.get_running_loop().time() < deadline, "the second claim never waited"
        await asyncio.sleep(0.05)


async def _first_ends_while_second_waits(
    pool: asyncpg.Pool,
    table: str,
    first: Callable[[Connection], Awaitable[object]],
    second: Callable[[], Coroutine[Any, Any, T]],
    *,
    commit: bool = True,
) -> T:
    """`first` claims in a transaction; `second` waits on it; the transaction then commits (or rolls back)."""
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        await first(conn)
        waiting = asyncio.create_task(second())
        await _waiting_on_a_lock(pool, table)
        await (transaction.commit() if commit else transaction.rollback())
    return await waiting


async def test_a_key_committed_while_the_claim_waited_is_found(pool: asyncpg.Pool) -> None:
    client_id = str(await pool.fetchval("select client_id from api_clients where name = 'integration'"))
    key = f"race-{uuid.uuid4()}"
    stored, stored_here = await _first_ends_while_second_waits(
        pool,
        "idempotency_keys",
        lambda conn: remember_key(conn, client_id, "referrals", key, "first-hash", "pathway-first"),
        lambda: remember_key(pool, client_id, "referrals", key, "second-hash", "pathway-second"),
    )
    assert (stored.request_hash, stored.pathway_id, stored_here) == ("first-hash", "pathway-first", False)


async def _second_claim_in_a_transaction(pool: asyncpg.Pool, *, first_commits: bool) -> tuple[str, str, bool]:
    """Two requests claim one key, each in its own transaction, as a referral does (api/intake.py): the
    second waits on the first, which then commits or rolls back. What the second found: the request hash
    and pathway stored under the key, and whether it stored them."""
    client_id = str(await pool.fetchval("select client_id from api_clients where name = 'integration'"))
    key = f"race-{uuid.uuid4()}"

    async def second() -> tuple[str, str, bool]:
        async with pool.acquire() as conn, conn.transaction():
            stored, stored_here = await remember_key(
                conn, client_id, "referrals", key, "second-hash", "pathway-second"
            )
            return stored.request_hash, stored.pathway_id, stored_here

    return await _first_ends_while_second_waits(
        pool,
        "idempotency_keys",
        lambda conn: remember_key(conn, client_id, "referrals", key, "first-hash", "pathway-first"),
        second,
        commit=first_commits,
    )


async def test_a_key_committed_while_a_claim_in_a_transaction_waited_is_found(pool: asyncpg.Pool) -> None:
    found = await _second_claim_in_a_transaction(pool, first_commits=True)
    assert found == ("first-hash", "pathway-first", False)


async def test_a_key_rolled_back_while_a_claim_waited_goes_to_the_waiter(pool: asyncpg.Pool) -> None:
    """A referral refused after claiming its key (a 409) rolls the claim back: the request waiting on it
    takes the key."""
    found = await _second_claim_in_a_transaction(pool, first_commits=False)
    assert found == ("second-hash", "pathway-second", True)


async def test_a_referral_committed_while_the_claim_waited_is_found(pool: asyncpg.Pool) -> None:
    patient = Referral.model_validate(referral_body(f"RACE-{uuid.uuid4().hex[:8]}")).patient
    patient_ref = (await register_patient(pool, "phoenix-main", patient)).patient_ref
    pathway_id = f"pathway-{uuid.uuid4()}"

    async def second() -> tuple[str, str | None, bool]:
        async with pool.acquire() as conn, conn.transaction():
            stored, first = await remember_referral(conn, pathway_id, "second-hash", patient_ref, None)
            return stored.referral_hash, stored.first_request, first

    found = await _first_ends_while_second_waits(
        pool,
        "referrals",
        lambda conn: remember_referral(conn, pathway_id, "first-hash", patient_ref, "first-request"),
        second,
    )
    assert found == ("first-hash", "first-request", False)
