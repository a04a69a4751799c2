"""The admin command line's way to the application database: the one the API and the worker use
(config/database.py), so it works beside a running `make run` without flags: `DATABASE_URL`, else the URL the
local stack published in its data folder (`DVR_DATA_DIR`, `.data` by default).

It refuses a database whose schema lacks a migration this code knows (a stack not restarted since an update),
rather than fail half-way through a command. Every database failure becomes an `AdminError` of one line that
never shows the URL (it may hold a password).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from pydantic import ValidationError

from admin.errors import AdminError
from config.database import URL_FILE, NoDatabase, database_url
from config.settings import Settings
from db.migrate import migration_files
from db.pool import CONNECT_TIMEOUT_SECONDS, Connection, create_pool

COMMAND_TIMEOUT_SECONDS = 30.0

# What asyncpg raises for a server that is down, unreachable, refuses the login or hangs, and for a URL it
# cannot read (ValueError).
_DATABASE_FAILURES = (OSError, TimeoutError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as err:
        # Settings hide input values in their errors: the message names the setting, never a secret.
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        raise AdminError(f"the settings are not valid: {where}: {first['msg']}") from None


@asynccontextmanager
async def connected(settings: Settings | None = None) -> AsyncIterator[Connection]:
    """One connection to the application database, with the codecs the application's queries expect."""
    settings = settings or load_settings()
    try:
        url = database_url(settings)
    except NoDatabase as err:
        raise AdminError(str(err)) from None
    where = "DATABASE_URL" if settings.database_url else f"{settings.data_dir / URL_FILE}"
    try:
        pool = await create_pool(url, min_size=1, max_size=1, command_timeout=COMMAND_TIMEOUT_SECONDS)
    except _DATABASE_FAILURES as err:
        raise AdminError(f"cannot reach the application database (from {where}): {_reason(err)}") from None
    try:
        async with pool.acquire() as conn:
            await _require_migrated(conn)
            yield conn
    except _DATABASE_FAILURES as err:
        raise AdminError(f"the application database failed: {_reason(err)}") from None
    finally:
        pool.terminate()  # one idle connection: nothing to wait for


async def _require_migrated(conn: Connection) -> None:
    try:
        done = {row["version"] for row in await conn.fetch("select version from schema_migrations")}
    except asyncpg.UndefinedTableError:
        done = set()
    missing = [version for version, _ in migration_files() if version not in done]
    if missing:
        raise AdminError(
            f"the application database lacks the migrations {', '.join(missing)}:"
            " start (or restart) the stack, which applies them, then try again"
        )


def _reason(err: BaseException) -> str:
    if isinstance(err, TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT_SECONDS:g} s"
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__
