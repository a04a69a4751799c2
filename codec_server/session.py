"""The codec server's browser session: what the Temporal UI's "include cross-origin credentials" sends.

The sign-in page (codec_server/sign_in.py) takes an API key once and answers with a cookie holding a signed
value (never the key): an expiry 12 hours ahead, the API client's id, a random session id and a tag of the
key it was opened with (a digest of the key's stored hash), under an HMAC. It is HttpOnly and
SameSite=Strict: a page of another site never sends it, while the UI, on another port of the same host,
does. The HMAC secret is derived from the active codec key, so every codec server holding the same keys
(replicas, a restart) accepts the same sessions, and a key rotation ends them all.

The signature alone would let a session outlive its key: each use therefore looks the client up again
(`session_client`), so revoking the key, rotating it (after a leak: the tag no longer matches), or taking
away its `history:decode` scope or every-site reach, ends its sessions at once; and signing out records the
session id (`end_session`), so a copy of the cookie stops working too.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from config.codec_keys import CodecKeys
from db.api_clients import ApiClient, client_of_row

COOKIE = "dvr_codec_session"
LIFETIME = timedelta(hours=12)
_PURPOSE = b"dvr codec server sessions"
# Expiry (Unix seconds), the client's UUID, a random session id, the key's tag; then the first bytes of the
# HMAC.
_EXPIRY, _CLIENT, _ID, _KEY, _MAC = 4, 16, 16, 16, 16
_SEALED = _EXPIRY + _CLIENT + _ID + _KEY
_MAX_VALUE_CHARS = 4 * (_SEALED + _MAC + 2) // 3


@dataclass(frozen=True)
class Session:
    client_id: str
    session_id: bytes
    expires_at: datetime
    key_tag: bytes
    """Of the API key the session was opened with (`key_tag`): another key of the client does not match."""


def key_tag(key_hash: str) -> bytes:
    """A tag of the client's key as stored (its hash): it names the key without letting it be found."""
    return hashlib.sha256(f"codec session|{key_hash}".encode()).digest()[:_KEY]


def session_secret(keys: CodecKeys) -> bytes:
    """A secret of its own for sessions (HKDF): the encryption key itself never signs anything."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE)
    return hkdf.derive(keys.keys[keys.active_id])


def _mac(secret: bytes, sealed: bytes) -> bytes:
    return hmac.new(secret, sealed, hashlib.sha256).digest()[:_MAC]


def issue(secret: bytes, client_id: str, key_hash: str, now: datetime) -> str:
    """A cookie value for a session of the API client `client_id` signed in with the key whose hash is
    `key_hash`, from `now` for `LIFETIME`."""
    expiry = int((now + LIFETIME).timestamp()).to_bytes(_EXPIRY, "big")
    sealed = expiry + uuid.UUID(client_id).bytes + secrets.token_bytes(_ID) + key_tag(key_hash)
    return base64.urlsafe_b64encode(sealed + _mac(secret, sealed)).decode()


def read(secret: bytes, value: str | None, now: datetime) -> Session | None:
    """The session `value` stands for, if it is one this server signed and it has not expired."""
    if not value or len(value) > _MAX_VALUE_CHARS:
        return None
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    sealed, mac = raw[:_SEALED], raw[_SEALED:]
    if len(sealed) != _SEALED or not hmac.compare_digest(mac, _mac(secret, sealed)):
        return None
    expires_at = datetime.fromtimestamp(int.from_bytes(sealed[:_EXPIRY], "big"), UTC)
    if expires_at <= now:
        return None
    client_id = str(uuid.UUID(bytes=sealed[_EXPIRY : _EXPIRY + _CLIENT]))
    session_id = sealed[_EXPIRY + _CLIENT : _EXPIRY + _CLIENT + _ID]
    tag = sealed[_EXPIRY + _CLIENT + _ID :]
    return Session(client_id=client_id, session_id=session_id, expires_at=expires_at, key_tag=tag)


async def session_client(pool: asyncpg.Pool, session: Session) -> ApiClient | None:
    """The session's API client, unless the client was revoked, its key rotated, or the session signed out."""
    row = await pool.fetchrow(
        "select client_id, name, scopes, clinic_sites, key_hash from api_clients"
        " where client_id = $1 and revoked_at is null"
        " and not exists (select 1 from codec_sessions_ended where session_id = $2)",
        uuid.UUID(session.client_id),
        session.session_id,
    )
    if row is None or not hmac.compare_digest(key_tag(row["key_hash"]), session.key_tag):
        return None
    return client_of_row(row)


async def end_session(pool: asyncpg.Pool, session: Session) -> None:
    """Remembers that `session` was signed out (until it would have expired), forgetting expired ones."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("delete from codec_sessions_ended where expires_at < now()")
        await conn.execute(
            "insert into codec_sessions_ended (session_id, expires_at) values ($1, $2)"
            " on conflict (session_id) do nothing",
            session.session_id,
            session.expires_at,
        )
