"""API clients: keys are stored as SHA-256 hashes, never in the clear.

A client has scopes (what it may do) and may be limited to clinic sites (where: `clinic_sites`, None for
every site). Clients are created, re-keyed and revoked from the admin command line (admin/keys.py) and never
deleted: the audit log names them, so a name is never reused.
"""

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from config.api_keys import check_key_strength
from db.pool import Queryable

ALL_SCOPES = (
    "referrals:write",
    "pathways:read",
    "clinical:write",
    "appointments:write",
    "patients:read",  # POST /v1/patients/search: a patient's pathways by MRN
    "patients:write",
    "staff:write",
    "admin",
    "history:decode",  # the codec server decrypts Temporal history for it (codec_server/auth.py)
    "webhooks:admin",  # /v1/webhooks: subscriptions to pathway events and their deliveries
)


@dataclass(frozen=True)
class ApiClient:
    client_id: str
    name: str
    scopes: frozenset[str]
    clinic_sites: frozenset[str] | None = None
    """The sites this client is limited to; None: every site."""


@dataclass(frozen=True)
class ClientRecord:
    """A client as the admin command line lists it: never its key or the key's hash."""

    name: str
    scopes: tuple[str, ...]
    clinic_sites: tuple[str, ...] | None
    created_at: datetime
    revoked_at: datetime | None


def hash_key(api_key: str) -> str:
    # Keys are 256-bit random tokens, so a plain digest is enough: there is nothing to brute-force.
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_api_key() -> str:
    return f"dvr_{secrets.token_urlsafe(32)}"


async def upsert_client(conn: Queryable, name: str, api_key: str, scopes: tuple[str, ...]) -> str:
    """Installs (or re-keys) the client `name` with every site; a weak key is refused with `WeakApiKey`.
    For the bootstrap client and tests: it reinstates a revoked client, which the command line never does."""
    check_key_strength(api_key)
    client_id = await conn.fetchval(
        "insert into api_clients (name, key_hash, scopes) values ($1, $2, $3)"
        " on conflict (name) do update set key_hash = excluded.key_hash, scopes = excluded.scopes,"
        " clinic_sites = null, revoked_at = null returning client_id",
        name,
        hash_key(api_key),
        list(scopes),
    )
    return str(client_id)


async def add_client(
    conn: Queryable, name: str, api_key: str, scopes: Sequence[str], clinic_sites: Sequence[str] | None
) -> bool:
    """Creates the client `name`; False (and nothing changed) if a client, revoked or not, has that name."""
    check_key_strength(api_key)
    client_id = await conn.fetchval(
        "insert into api_clients (name, key_hash, scopes, clinic_sites) values ($1, $2, $3, $4)"
        " on conflict (name) do nothing returning client_id",
        name,
        hash_key(api_key),
        list(scopes),
        None if clinic_sites is None else list(clinic_sites),
    )
    return client_id is not None


async def replace_key(conn: Queryable, name: str, api_key: str) -> bool:
    """Gives the active client `name` a new key (the old one stops working at once); False if there is no
    active client of that name."""
    check_key_strength(api_key)
    changed = await conn.execute(
        "update api_clients set key_hash = $2 where name = $1 and revoked_at is null", name, hash_key(api_key)
    )
    return changed == "UPDATE 1"


async def revoke_client(conn: Queryable, name: str) -> datetime | None:
    """Revokes the active client `name`; returns when, or None if there is no active client of that name."""
    revoked_at: datetime | None = await conn.fetchval(
        "update api_clients set revoked_at = now() where name = $1 and revoked_at is null"
        " returning revoked_at",
        name,
    )
    return revoked_at


async def find_client(conn: Queryable, name: str) -> ClientRecord | None:
    row = await conn.fetchrow(f"select {_RECORD_COLUMNS} from api_clients where name = $1", name)
    return _record(row) if row else None


async def all_clients(conn: Queryable) -> list[ClientRecord]:
    rows = await conn.fetch(f"select {_RECORD_COLUMNS} from api_clients order by created_at, name")
    return [_record(row) for row in rows]


async def client_for_key(conn: Queryable, api_key: str) -> ApiClient | None:
    return await client_for_hash(conn, hash_key(api_key))


async def client_for_hash(conn: Queryable, key_hash: str) -> ApiClient | None:
    """The active client whose key has this hash (`hash_key`)."""
    row = await conn.fetchrow(
        "select client_id, name, scopes, clinic_sites from api_clients"
        " where key_hash = $1 and revoked_at is null",
        key_hash,
    )
    return None if row is None else client_of_row(row)


def client_of_row(row: asyncpg.Record) -> ApiClient:
    """An API client from a row of `api_clients` (client_id, name, scopes, clinic_sites)."""
    sites = row["clinic_sites"]
    return ApiClient(
        client_id=str(row["client_id"]),
        name=row["name"],
        scopes=frozenset(row["scopes"]),
        clinic_sites=None if sites is None else frozenset(sites),
    )


_RECORD_COLUMNS = "name, scopes, clinic_sites, created_at, revoked_at"


def _record(row: asyncpg.Record) -> ClientRecord:
    sites = row["clinic_sites"]
    return ClientRecord(
        name=row["name"],
        scopes=tuple(row["scopes"]),
        clinic_sites=None if sites is None else tuple(sites),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )
