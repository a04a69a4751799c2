"""Getting a database ready for the local stack: the schema, the demo clinic and the bootstrap API key.

`prepare_database` applies the migrations not yet applied, loads the demo clinic and installs the bootstrap
API client (every scope) under the key `bootstrap_key` returns. Each part is idempotent, so it runs at every
start: a restart changes nothing but a bootstrap key that was set or rotated since.

The bootstrap key is `DVR_BOOTSTRAP_API_KEY` when it is set; otherwise one key is generated on the first run
and kept in the data folder (`bootstrap-api-key`, readable by its owner only), so the key that the start-up
banner points to and the README's curl walk-through reads stays the same from run to run. A configured key
must be strong enough (db/api_clients.py); the banner never prints a key, only where it is.
"""

import os
import tempfile
from contextlib import suppress
from pathlib import Path

from config.api_keys import check_key_strength
from db.api_clients import ALL_SCOPES, new_api_key, upsert_client
from db.migrate import migrate
from db.pool import create_pool
from db.seed import seed_demo_clinic
from domain.config import Profile

KEY_FILE = "bootstrap-api-key"
BOOTSTRAP_CLIENT = "bootstrap"


async def prepare_database(
    url: str,
    data_dir: Path,
    configured_key: str | None = None,
    relief_threshold: float | None = None,
    profile: Profile = "clinical",
) -> str:
    """Applies migrations, loads the demo clinic and installs the bootstrap API key; returns the key."""
    pool = await create_pool(url, max_size=2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
            await seed_demo_clinic(conn, relief_threshold, profile)
            api_key = bootstrap_key(data_dir, configured_key)
            await upsert_client(conn, BOOTSTRAP_CLIENT, api_key, ALL_SCOPES)
    finally:
        await pool.close()
    return api_key


def key_location(data_dir: Path, configured_key: str | None = None) -> str:
    """Where the bootstrap key is, in words for the start-up banner (never the key itself)."""
    if configured_key:
        return "as set in DVR_BOOTSTRAP_API_KEY"
    return f"in {data_dir / KEY_FILE} (readable by you only)"


def bootstrap_key(data_dir: Path, configured_key: str | None = None) -> str:
    """`configured_key` if set, else the key generated on the first run and kept in `data_dir` (mode 0600).
    A kept file that is empty (a crash between creating and writing it, before writes became atomic) counts
    as no key: a new one is generated."""
    if configured_key:
        check_key_strength(configured_key)
        return configured_key
    path = data_dir / KEY_FILE
    try:
        kept = path.read_text().strip()
    except FileNotFoundError:
        kept = ""
    if kept:
        check_key_strength(kept)
        return kept
    key = new_api_key()
    _write_atomically(path, key + "\n")
    return key


def _write_atomically(path: Path, text: str) -> None:
    """Writes `text` to a new owner-only file beside `path`, then renames it over `path` in one step: `path`
    is never seen empty or partial, and never readable by others, not even for a moment."""
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(fd, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(draft, 0o600)  # whatever the umask
        os.replace(draft, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(draft)
        raise
