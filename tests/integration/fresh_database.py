"""A migrated database of its own on the embedded server, for a test that must start from nothing (the
session's database already holds the demo clinic and every other test's rows)."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from db.migrate import migrate
from db.pool import create_pool


async def create_database(server_url: str) -> str:
    """A new, migrated database on the server; its URL."""
    name = f"fresh_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f"create database {name}")
    finally:
        await admin.close()
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return url


async def drop_database(server_url: str, url: str) -> None:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f"drop database {urlsplit(url).path.lstrip('/')} with (force)")
    finally:
        await admin.close()


@asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """For async tests: the new database's URL; dropped afterwards."""
    url = await create_database(server_url)
    try:
        yield url
    finally:
        await drop_database(server_url, url)


@asynccontextmanager
async def fresh_pool(server_url: str, max_size: int = 4) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a new database of its own; closed and dropped afterwards."""
    async with fresh_database(server_url) as url:
        pool = await create_pool(url, max_size=max_size)
        try:
            yield pool
        finally:
            await pool.close()


@contextmanager
def fresh_database_sync(server_url: str) -> Iterator[str]:
    """For tests of commands that run their own event loop (the admin command line)."""
    url = asyncio.run(create_database(server_url))
    try:
        yield url
    finally:
        asyncio.run(drop_database(server_url, url))
