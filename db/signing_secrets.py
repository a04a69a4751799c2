"""Secrets the API signs with (migration 005): one per purpose, shared by every API process."""

from db.pool import Queryable


async def signing_secret(conn: Queryable, purpose: str) -> bytes:
    secret = await conn.fetchval("select secret from signing_secrets where purpose = $1", purpose)
    if secret is None:
        raise LookupError(f"no signing secret for {purpose}: has the database been migrated?")
    return str(secret).encode()
