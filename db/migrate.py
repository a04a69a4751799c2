"""Versioned SQL migrations: each file applied once, in order, in its own transaction.

`python -m db.migrate` applies them to `DATABASE_URL` and exits: the deployment's migrations job, run before
the API and the workers start (docker-compose.yml). With `DVR_BOOTSTRAP_API_KEY` set it also installs that key
as the `bootstrap` client (every scope), so a new deployment has a first key to create the others with.
"""

import asyncio
from importlib import resources

import asyncpg
import structlog

from config.database import NoDatabase, database_url
from config.logging import configure_logging
from config.settings import Settings
from db.api_clients import ALL_SCOPES, upsert_client
from db.pool import CONNECT_TIMEOUT_SECONDS, Connection

log = structlog.get_logger()

# Taken for the whole run so two processes starting at once do not apply the same file twice.
_LOCK_ID = 7_466_031


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) for every file in db/migrations, in name order."""
    folder = resources.files("db") / "migrations"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name.removesuffix(".sql"), f.read_text()) for f in files]


async def migrate(conn: Connection) -> list[str]:
    """Applies the migrations not yet applied; returns their versions."""
    applied_now: list[str] = []
    await conn.execute("select pg_advisory_lock($1)", _LOCK_ID)
    try:
        await conn.execute(
            "create table if not exists schema_migrations ("
            " version text primary key, applied_at timestamptz not null default now())"
        )
        done = {r["version"] for r in await conn.fetch("select version from schema_migrations")}
        for version, sql in migration_files():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("insert into schema_migrations (version) values ($1)", version)
            log.info("migration.applied", version=version)
            applied_now.append(version)
    finally:
        await conn.execute("select pg_advisory_unlock($1)", _LOCK_ID)
    return applied_now


async def apply_migrations(url: str, bootstrap_key: str | None = None) -> list[str]:
    """Applies the migrations not yet applied to the database at `url`, and installs `bootstrap_key` as the
    bootstrap client when one is given; returns the versions applied now."""
    from db.bootstrap import BOOTSTRAP_CLIENT  # db.bootstrap imports this module

    conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        applied = await migrate(conn)
        if bootstrap_key:
            await upsert_client(conn, BOOTSTRAP_CLIENT, bootstrap_key, ALL_SCOPES)
            log.info("bootstrap_key.installed", client=BOOTSTRAP_CLIENT)  # never the key
    finally:
        await conn.close()
    return applied


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        url = database_url(settings)
    except NoDatabase as err:
        raise SystemExit(f"the migrations need the application database: {err}") from None
    applied = asyncio.run(apply_migrations(url, settings.bootstrap_api_key))
    log.info("migrations.done", applied=len(applied), total=len(migration_files()))


if __name__ == "__main__":
    main()
