"""Running the admin command line against a test database, as staff would from a shell."""

import asyncio
from typing import Any

import asyncpg
from typer.testing import CliRunner, Result

from admin.cli import app
from db.pool import create_pool


def run_admin(database_url: str, *args: str) -> Result:
    """`dvr-admin ARGS` with DATABASE_URL naming the test database; stdout and stderr apart."""
    return CliRunner().invoke(app, list(args), env={"DATABASE_URL": database_url}, prog_name="dvr-admin")


def fetch(database_url: str, query: str, *params: Any) -> list[asyncpg.Record]:
    """One query on its own event loop (the command line runs its own, outside the tests' loop)."""

    async def _fetch() -> list[asyncpg.Record]:
        pool = await create_pool(database_url, max_size=1)
        try:
            return list(await pool.fetch(query, *params))
        finally:
            await pool.close()

    return asyncio.run(_fetch())
