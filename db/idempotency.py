"""Idempotency keys: a replay returns the first answer; a key reused with another body is refused.

A key is scoped to its API client and its route (`referrals`, or a step such as `mri-review`). It is claimed
before the request does its work and released when the request fails, so a corrected retry can use it.
"""

from dataclasses import dataclass
from typing import Any

from db.pool import Queryable


@dataclass(frozen=True)
class StoredKey:
    request_hash: str
    pathway_id: str
    taken: bool = False
    """The step it was claimed for was taken (step keys only)."""
    answer: dict[str, Any] | None = None
    """The answer the request gave, kept for a retry (requests that are not Updates: `keep_answer`)."""


async def find_key(conn: Queryable, client_id: str, route: str, key: str) -> StoredKey | None:
    row = await conn.fetchrow(
        "select request_hash, pathway_id, taken_at is not null as taken, answer from idempotency_keys"
        " where client_id = $1 and route = $2 and idempotency_key = $3",
        client_id,
        route,
        key,
    )
    return StoredKey(row["request_hash"], row["pathway_id"], row["taken"], row["answer"]) if row else None


async def remember_key(
    conn: Queryable, client_id: str, route: str, key: str, request_hash: str, pathway_id: str
) -> tuple[StoredKey, bool]:
    """Stores the key, or finds the one stored first (by an earlier or a concurrent request).

    Returns the stored key and whether this call stored it. One statement, one round trip: the insert, or
    else the row it met. A row committed by a concurrent request after the statement began is not in its
    snapshot (nor is a row released meanwhile): the statement then finds nothing and is sent again."""
    while True:
        row = await conn.fetchrow(
            "with inserted as ("
            " insert into idempotency_keys (client_id, route, idempotency_key, request_hash, pathway_id)"
            " values ($1, $2, $3, $4, $5) on conflict do nothing"
            " returning request_hash, pathway_id, false as taken, answer, true as inserted)"
            " select * from inserted"
            " union all"
            " select request_hash, pathway_id, taken_at is not null, answer, false from idempotency_keys"
            " where client_id = $1 and route = $2 and idempotency_key = $3"
            " and not exists (select from inserted)",
            client_id,
            route,
            key,
            request_hash,
            pathway_id,
        )
        if row is not None:
            stored = StoredKey(row["request_hash"], row["pathway_id"], row["taken"], row["answer"])
            return stored, row["inserted"]


async def forget_key(conn: Queryable, client_id: str, route: str, key: str, request_hash: str) -> None:
    """Releases a key this request claimed and could not use: its work failed, nothing was done."""
    await conn.execute(
        "delete from idempotency_keys"
        " where client_id = $1 and route = $2 and idempotency_key = $3 and request_hash = $4",
        client_id,
        route,
        key,
        request_hash,
    )


async def mark_taken(conn: Queryable, client_id: str, route: str, key: str, request_hash: str) -> None:
    """Records that the step this key was claimed for was taken."""
    await conn.execute(
        "update idempotency_keys set taken_at = now()"
        " where client_id = $1 and route = $2 and idempotency_key = $3 and request_hash = $4",
        client_id,
        route,
        key,
        request_hash,
    )


async def keep_answer(
    conn: Queryable, client_id: str, route: str, key: str, request_hash: str, answer: dict[str, Any]
) -> None:
    """Records that the request this key was claimed for is done, with its answer for a retry. Run it in the
    transaction that did the work and claimed the key: the work, the key and the answer commit together."""
    await conn.execute(
        "update idempotency_keys set taken_at = now(), answer = $5"
        " where client_id = $1 and route = $2 and idempotency_key = $3 and request_hash = $4",
        client_id,
        route,
        key,
        request_hash,
        answer,
    )
