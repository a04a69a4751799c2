"""Page tokens of `GET /v1/pathways`: Temporal's cursor, sealed to the filters it was issued for.

A token is URL-safe base64 of an HMAC of (filters, cursor), keyed with a secret every API process shares
(db/signing_secrets.py), followed by the cursor. A junk, truncated, altered or forged token, or one issued for
other filters, fails the HMAC and is refused with 422 at once, before Temporal is asked (Temporal retries a
cursor it cannot read for seconds before it gives up).
"""

import base64
import binascii
import hashlib
import hmac

from api.problems import Problem

_DIGEST_BYTES = 16
_MAX_TOKEN_CHARS = 4096


def _digest(secret: bytes, query: str, cursor: bytes) -> bytes:
    return hmac.new(secret, query.encode() + b"\x00" + cursor, hashlib.sha256).digest()[:_DIGEST_BYTES]


def issue(secret: bytes, query: str, cursor: bytes | None) -> str | None:
    """The page token that continues `query` at Temporal's `cursor` (None: there is no next page)."""
    if not cursor:
        return None
    return base64.urlsafe_b64encode(_digest(secret, query, cursor) + cursor).decode()


def read(secret: bytes, query: str, page_token: str | None) -> bytes | None:
    """Temporal's cursor from a token this API issued for `query`; 422 for anything else."""
    if page_token is None:
        return None
    try:
        if len(page_token) > _MAX_TOKEN_CHARS:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(page_token.encode("ascii"))
    except (binascii.Error, ValueError) as err:
        raise _not_ours() from err
    digest, cursor = raw[:_DIGEST_BYTES], raw[_DIGEST_BYTES:]
    if not cursor or not hmac.compare_digest(digest, _digest(secret, query, cursor)):
        raise _not_ours()
    return cursor


def _not_ours() -> Problem:
    return Problem(422, "invalid-page-token", "page_token is not one this API issued for these filters.")
