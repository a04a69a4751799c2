"""Versioned SQL migrations: each file applied once, in order, in its own transaction."""

from importlib import resources

import structlog

from db.pool import Connection

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
