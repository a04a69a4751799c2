"""The codec server's browser session: what the Temporal UI's "include cross-origin credentials" sends.

The sign-in page (codec_server/sign_in.py) takes an API key once and answers with a cookie in the demo
outbox's sealed form (api/demo_session.py: an expiry and random bytes under an HMAC, 12 hours, never the key),
HttpOnly and SameSite=Strict: a page of another site never sends it, while the UI, on another port of the same
host, does. The HMAC secret is derived from the active codec key, so every codec server holding the same keys
(replicas, a restart) accepts the same sessions, and a key rotation ends them all.
"""

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from config.codec_keys import CodecKeys

COOKIE = "dvr_codec_session"
_PURPOSE = b"dvr codec server sessions"


def session_secret(keys: CodecKeys) -> bytes:
    """A secret of its own for sessions (HKDF): the encryption key itself never signs anything."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE)
    return hkdf.derive(keys.keys[keys.active_id])
