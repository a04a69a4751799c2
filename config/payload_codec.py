"""The payload codec: every payload Temporal stores (inputs, results, Update and Signal arguments, memo,
summaries, failure messages) is encrypted with AES-256-GCM before it leaves the process.

An encrypted payload's metadata says `encoding: binary/encrypted` and names its key (`encryption-key-id`); its
data is a random 12-byte nonce followed by the ciphertext and tag of the whole original payload (metadata
included), the layout of Temporal's encryption samples. The active key encrypts; any loaded key decrypts,
so history written before a rotation stays readable while its key is kept. A payload not marked encrypted
passes through decoding unchanged: pathways started before the codec still replay.
"""

import os
import re
from collections.abc import Sequence

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from config.codec_keys import CodecKeys

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
_SHOWN_CHARS = 64  # the longest key id config/codec_keys.py takes
_NOT_KEY_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]")

log = structlog.get_logger()


class PayloadNotDecrypted(ValueError):
    """An encrypted payload that cannot be decrypted; the message names the key id, never data or keys."""


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: CodecKeys) -> None:
        self.active_id = keys.active_id
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.active_id].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: self.active_id.encode()}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written in the clear, before the codec: kept readable
        key_id = payload.metadata.get(KEY_ID, b"").decode("utf-8", "replace")
        shown = _shown(key_id)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            # The ids held go to the log only: the message reaches the codec server's callers, who need not
            # learn the rotation history; the id given is the caller's, so it is echoed bounded and tamed.
            log.warning("codec.key_not_held", key_id=shown, held=sorted(self._ciphers))
            raise PayloadNotDecrypted(
                f"a payload is encrypted with key id {shown!r}, which this process does not hold:"
                " add that key to DVR_CODEC_KEYS or DVR_CODEC_KEYS_FILE"
            )
        try:
            plain = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], None)
        except (InvalidTag, ValueError):
            raise PayloadNotDecrypted(
                f"a payload encrypted with key id {shown!r} failed authentication: it was altered, or that"
                " id names a different key here"
            ) from None
        return Payload.FromString(plain)


def _shown(key_id: str) -> str:
    """A key id fit for a message: at most 64 characters, those a key id may hold, others as `?`."""
    tamed = _NOT_KEY_ID_CHARS.sub("?", key_id[:_SHOWN_CHARS])
    return tamed + "..." if len(key_id) > _SHOWN_CHARS else tamed
