"""The payload codec's keys: which ones a process holds, which one encrypts, and where they come from.

A key is 32 random bytes (AES-256), written as base64, under a short id that each encrypted payload carries.
Keys are given as `id:base64` entries, every one decrypting and the first one encrypting, unless
`DVR_CODEC_ENCRYPT_KEY_ID` names another. A rotation goes in two phases: the new key is added everywhere while
the old one still encrypts (named by `DVR_CODEC_ENCRYPT_KEY_ID`), so that every process can read what the
new key will write before any process writes with it; then the new key encrypts. The old keys stay for the
histories they wrote. They come from, in this order:

- `DVR_CODEC_KEYS`: the entries separated by commas (a secret: never logged nor shown in errors);
- `DVR_CODEC_KEYS_FILE`: a file of entries, one a line (`#` starts a comment);
- the local stack's key file in the data folder (`codec-keys`), which `make run` generates on its first run
  when neither is set, so that a worker started by hand beside it finds the same keys.

A process with none of these does not start: it never writes history in the clear. A lost key makes every
payload it encrypted unreadable, so production keys live in the clinic's secret store, never in the repo.
"""

import base64
import binascii
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from config.settings import Settings

KEY_FILE = "codec-keys"
KEY_BYTES = 32
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class CodecKeyError(ValueError):
    """Keys missing or malformed; the message names the entry by its id or position, never its material."""


@dataclass(frozen=True)
class CodecKeys:
    """Keys by id; `active_id` encrypts. The key material stays out of repr and comparisons' output."""

    active_id: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.active_id not in self.keys:
            raise CodecKeyError(f"the active key id {self.active_id!r} is not among the keys")


def parse_keys(entries: list[str], source: str) -> CodecKeys:
    """Keys from `id:base64` entries, the first one active; `source` names them in errors."""
    keys: dict[str, bytes] = {}
    for number, entry in enumerate(entries, start=1):
        key_id, colon, material = entry.partition(":")
        key_id = key_id.strip()
        if not colon or not _KEY_ID.fullmatch(key_id):
            raise CodecKeyError(
                f"{source}: entry {number} is not `id:base64-key` with an id of letters, digits, . _ -"
            )
        if key_id in keys:
            raise CodecKeyError(f"{source}: the key id {key_id!r} is given twice")
        keys[key_id] = _key_bytes(material.strip(), f"{source}: key {key_id!r}")
    if not keys:
        raise CodecKeyError(f"{source} holds no key")
    return CodecKeys(active_id=next(iter(keys)), keys=keys)


def _key_bytes(material: str, what: str) -> bytes:
    try:
        key = base64.b64decode(material.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise CodecKeyError(f"{what} is not base64") from None
    if len(key) != KEY_BYTES:
        raise CodecKeyError(f"{what} is {len(key)} bytes; AES-256 needs {KEY_BYTES}")
    return key


def read_key_file(path: Path) -> CodecKeys:
    try:
        text = path.read_text()
    except OSError as err:
        raise CodecKeyError(f"the codec key file {path} cannot be read: {err.strerror}") from None
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return parse_keys([line for line in lines if line], f"the codec key file {path}")


def load_codec_keys(settings: Settings) -> CodecKeys:
    """The keys this process encrypts and decrypts with (the module docstring says from where), the one
    `DVR_CODEC_ENCRYPT_KEY_ID` names encrypting (unset: the first)."""
    keys = _configured_keys(settings)
    chosen = settings.codec_encrypt_key_id
    if chosen is None or chosen == keys.active_id:
        return keys
    if chosen not in keys.keys:
        raise CodecKeyError(
            f"DVR_CODEC_ENCRYPT_KEY_ID names {chosen!r}, which is not among the codec keys"
            f" ({', '.join(repr(k) for k in keys.keys)})"
        )
    return CodecKeys(active_id=chosen, keys=keys.keys)


def _configured_keys(settings: Settings) -> CodecKeys:
    configured = settings.codec_keys.get_secret_value() if settings.codec_keys else ""
    if configured and settings.codec_keys_file is not None:
        raise CodecKeyError("set DVR_CODEC_KEYS or DVR_CODEC_KEYS_FILE, not both")
    if configured:
        return parse_keys([e for e in configured.split(",") if e.strip()], "DVR_CODEC_KEYS")
    if settings.codec_keys_file is not None:
        return read_key_file(settings.codec_keys_file)
    local = settings.data_dir / KEY_FILE
    if local.exists():
        return read_key_file(local)
    raise CodecKeyError(
        "no payload codec keys: set DVR_CODEC_KEYS or DVR_CODEC_KEYS_FILE (see README, 'Encrypted history'),"
        f" or start the local stack (`make run`), which keeps one in {local}"
    )


def keys_location(settings: Settings) -> str:
    """Where the keys are, in words for the start-up banner (never a key)."""
    if settings.codec_keys:
        return "as set in DVR_CODEC_KEYS"
    if settings.codec_keys_file is not None:
        return f"in {settings.codec_keys_file}"
    return f"in {settings.data_dir / KEY_FILE} (readable by you only; without it the history is unreadable)"


def ensure_local_key_file(settings: Settings) -> None:
    """With no keys configured, generates one into the data folder on the first run (owner-only), and keeps
    it from then on: the local stack's history stays readable from run to run."""
    if settings.codec_keys or settings.codec_keys_file is not None:
        return
    path = settings.data_dir / KEY_FILE
    if path.exists():
        read_key_file(path)  # a broken file fails the start now, not in every process after it
        return
    key_id = f"local-{secrets.token_hex(4)}"  # never reused: a regenerated file cannot pass for the old one
    material = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
    _write_new(path, f"# generated by `make run`; the first key encrypts\n{key_id}:{material}\n")


def _write_new(path: Path, text: str) -> None:
    """Writes an owner-only file beside `path` and renames it into place: never seen partial or by others."""
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(fd, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(draft, 0o600)
        os.replace(draft, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(draft)
        raise
