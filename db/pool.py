"""The asyncpg pool every process shares its database work through."""

import json

import asyncpg
from asyncpg.pool import PoolConnectionProxy


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection)
    assert pool is not None
    return pool


# One connection (plain or from the pool), and anything queries can run on.
Connection = asyncpg.Connection | PoolConnectionProxy
Queryable = asyncpg.Connection | PoolConnectionProxy | asyncpg.Pool
