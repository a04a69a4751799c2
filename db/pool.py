"""The asyncpg pool every process shares its database work through."""

import json

import asyncpg
from asyncpg.pool import PoolConnectionProxy


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a released connection needs beyond asyncpg's own cleanup (which rolls back a transaction left
    open and drops listeners): nothing. asyncpg's default reset sends `pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL` on every release, a round trip (half the transactions of a referral) that undoes
    session state the application never makes: no SET outside a transaction, no session advisory lock, no
    cursor WITH HOLD, no LISTEN on a pool's connection (the webhook sender listens on one of its own).
    tests/unit/test_session_state.py holds the code to that."""


# A hung server (or network) must not hang a request: a statement or a connection attempt that takes longer
# raises TimeoutError, which the API answers 503. The application's statements take milliseconds.
COMMAND_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 10.0


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, command_timeout: float = COMMAND_TIMEOUT_SECONDS
) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=command_timeout,
        timeout=CONNECT_TIMEOUT_SECONDS,
    )
    assert pool is not None
    return pool


# One connection (plain or from the pool), and anything queries can run on.
Connection = asyncpg.Connection | PoolConnectionProxy
Queryable = asyncpg.Connection | PoolConnectionProxy | asyncpg.Pool
