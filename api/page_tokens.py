"""Page tokens of `GET /v1/pathways`: Temporal's cursor, sealed to the filters it was issued for.

A token is URL-safe base64 of a short digest of (filters, cursor) followed by the cursor. A junk, truncated or
altered token, or one issued for other filters, fails the digest and is refused with 422 at once, before
Temporal is asked (Temporal retries a cursor it cannot read for seconds before it gives up). The digest is a
checksum, not a signature: the cursor holds nothing secret, and a client that forges a token that passes
it only slows its own request.
"""

import base64
import binascii
import hashlib
import hmac

from api.problems import Problem

_DIGEST_BYTES = 12
_MAX_TOKEN_CHARS = 4096


def _digest(query: str, cursor: bytes) -> bytes:
    return hashlib.sha256(query.encode() + b"\x00" + cursor).digest()[:_DIGEST_BYTES]


def issue(query: str, cursor: bytes | None) -> str | None:
    """The page token that continues `query` at Temporal's `cursor` (None: there is no next page)."""
    if not cursor:
        return None
    return base64.urlsafe_b64encode(_digest(query, cursor) + cursor).decode()


def read(query: str, page_token: str | None) -> bytes | None:
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
    if not cursor or not hmac.compare_digest(digest, _digest(query, cursor)):
        raise _not_ours()
    return cursor


def _not_ours() -> Problem:
    return Problem(422, "invalid-page-token", "page_token is not one this API issued for these filters.")
