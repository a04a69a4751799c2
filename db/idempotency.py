"""Idempotency keys of `POST /v1/referrals`: a replay returns the first answer."""

from dataclasses import dataclass

from db.pool import Queryable


@dataclass(frozen=True)
class StoredKey:
    request_hash: str
    pathway_id: str


async def find_key(conn: Queryable, client_id: str, key: str) -> StoredKey | None:
    row = await conn.fetchrow(
        "select request_hash, pathway_id from idempotency_keys where client_id = $1 and idempotency_key = $2",
        client_id,
        key,
    )
    return StoredKey(row["request_hash"], row["pathway_id"]) if row else None


async def remember_key(
    conn: Queryable, client_id: str, key: str, request_hash: str, pathway_id: str
) -> tuple[StoredKey, bool]:
    """Stores the key, or finds the one stored first (by an earlier or a concurrent request).

    Returns the stored key and whether this call stored it."""
    inserted = await conn.execute(
        "insert into idempotency_keys (client_id, idempotency_key, request_hash, pathway_id)"
        " values ($1, $2, $3, $4) on conflict do nothing",
        client_id,
        key,
        request_hash,
        pathway_id,
    )
    stored = await find_key(conn, client_id, key)
    assert stored is not None
    return stored, inserted.endswith(" 1")
