"""API clients: keys are stored as SHA-256 hashes, never in the clear."""

import hashlib
import secrets
from dataclasses import dataclass

from config.api_keys import check_key_strength
from db.pool import Queryable

ALL_SCOPES = (
    "referrals:write",
    "pathways:read",
    "clinical:write",
    "appointments:write",
    "patients:write",
    "staff:write",
    "admin",
    "history:decode",  # the codec server decrypts Temporal history for it (codec_server/auth.py)
)


@dataclass(frozen=True)
class ApiClient:
    client_id: str
    name: str
    scopes: frozenset[str]


def hash_key(api_key: str) -> str:
    # Keys are 256-bit random tokens, so a plain digest is enough: there is nothing to brute-force.
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_api_key() -> str:
    return f"dvr_{secrets.token_urlsafe(32)}"


async def upsert_client(conn: Queryable, name: str, api_key: str, scopes: tuple[str, ...]) -> str:
    """Installs (or re-keys) the client `name`; a weak key is refused with `WeakApiKey`."""
    check_key_strength(api_key)
    client_id = await conn.fetchval(
        "insert into api_clients (name, key_hash, scopes) values ($1, $2, $3)"
        " on conflict (name) do update set key_hash = excluded.key_hash, scopes = excluded.scopes,"
        " revoked_at = null returning client_id",
        name,
        hash_key(api_key),
        list(scopes),
    )
    return str(client_id)


async def client_for_key(conn: Queryable, api_key: str) -> ApiClient | None:
    row = await conn.fetchrow(
        "select client_id, name, scopes from api_clients where key_hash = $1 and revoked_at is null",
        hash_key(api_key),
    )
    if row is None:
        return None
    return ApiClient(client_id=str(row["client_id"]), name=row["name"], scopes=frozenset(row["scopes"]))
