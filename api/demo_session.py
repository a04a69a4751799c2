"""The demo outbox page's session: a signed cookie value that says "the bootstrap key was given", until it
expires. It is not the key (a stolen cookie is worth half a day of the demo page, not the API), and it is kept
HttpOnly and SameSite=Strict (api/routes/demo_outbox.py).

A value is URL-safe base64 of 4 bytes of expiry (Unix seconds), 12 random bytes, and the first 16 bytes of an
HMAC-SHA256 over them, keyed with the `demo_sessions` secret shared by every API process.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

SECRET_PURPOSE = "demo_sessions"
COOKIE = "dvr_demo_session"
LIFETIME = timedelta(hours=12)
_SEALED_BYTES, _MAC_BYTES = 16, 16


def _mac(secret: bytes, sealed: bytes) -> bytes:
    return hmac.new(secret, sealed, hashlib.sha256).digest()[:_MAC_BYTES]


def issue(secret: bytes, now: datetime) -> str:
    sealed = int((now + LIFETIME).timestamp()).to_bytes(4, "big") + secrets.token_bytes(12)
    return base64.urlsafe_b64encode(sealed + _mac(secret, sealed)).decode()


def is_valid(secret: bytes, value: str | None, now: datetime) -> bool:
    if not value or len(value) > 64:
        return False
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False
    sealed, mac = raw[:_SEALED_BYTES], raw[_SEALED_BYTES:]
    if len(sealed) != _SEALED_BYTES or not hmac.compare_digest(mac, _mac(secret, sealed)):
        return False
    return int.from_bytes(sealed[:4], "big") > now.timestamp()
