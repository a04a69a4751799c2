"""The token of a patient's link (`/p/{token}`): a link id and an expiry, sealed with an HMAC.

A token is URL-safe base64 (no padding) of 16 bytes of link id (a random UUID), 4 bytes of expiry (Unix
seconds, big-endian) and the first 12 bytes of HMAC-SHA256 over those 20 bytes, keyed with the secret every
API process and worker shares (db/signing_secrets.py, purpose `patient_links`): 43 characters, short enough
for an SMS. It carries no PHI; the pathway it reaches is the link's row (db/patient_links.py), which can be
revoked. Pure: the clock is the caller's.
"""

import base64
import binascii
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

_ID_BYTES, _EXPIRY_BYTES, _MAC_BYTES = 16, 4, 12
_TOKEN_BYTES = _ID_BYTES + _EXPIRY_BYTES + _MAC_BYTES
TOKEN_CHARS = 43
"""The length of every token (32 bytes in unpadded base64)."""


class TokenProblem(StrEnum):
    NOT_OURS = "not_ours"
    """Malformed, altered or forged: no link has this token."""
    EXPIRED = "expired"


@dataclass(frozen=True)
class LinkToken:
    link_id: uuid.UUID
    expires_at: datetime


def _mac(secret: bytes, sealed: bytes) -> bytes:
    return hmac.new(secret, sealed, hashlib.sha256).digest()[:_MAC_BYTES]


def seal(secret: bytes, link_id: uuid.UUID, expires_at: datetime) -> str:
    """The token of the link `link_id`, good until `expires_at` (to the second)."""
    sealed = link_id.bytes + int(expires_at.timestamp()).to_bytes(_EXPIRY_BYTES, "big")
    return _encode(sealed + _mac(secret, sealed))


def unseal(secret: bytes, token: str, now: datetime) -> LinkToken | TokenProblem:
    """The link a token names, or why it names none. The HMAC is checked before the expiry is read, so an
    altered expiry is NOT_OURS, never a longer life."""
    if len(token) != TOKEN_CHARS:
        return TokenProblem.NOT_OURS
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii") + b"=")
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return TokenProblem.NOT_OURS
    if len(raw) != _TOKEN_BYTES:
        return TokenProblem.NOT_OURS
    sealed, mac = raw[: _ID_BYTES + _EXPIRY_BYTES], raw[_ID_BYTES + _EXPIRY_BYTES :]
    if not hmac.compare_digest(mac, _mac(secret, sealed)):
        return TokenProblem.NOT_OURS
    # Re-encoding must give the token back: base64 tolerates other spellings of the same bytes.
    if _encode(raw) != token:
        return TokenProblem.NOT_OURS
    expires_at = datetime.fromtimestamp(int.from_bytes(sealed[_ID_BYTES:], "big"), UTC)
    if expires_at <= now:
        return TokenProblem.EXPIRED
    return LinkToken(uuid.UUID(bytes=sealed[:_ID_BYTES]), expires_at)


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
