"""Which application database a process uses: `DATABASE_URL`, else the local stack's embedded PostgreSQL.

While the local stack (`make run`) runs on embedded PostgreSQL, it keeps the server's URL in its data folder
(`database-url`, readable by its owner only) and removes it when it stops. A worker or API started by hand
from the same folder (`python -m workers.worker`) finds the database there without being told. The URL names
a unix socket inside the data folder (itself readable by its owner only) and carries no password.
"""

import os
from pathlib import Path

from config.settings import Settings

URL_FILE = "database-url"


class NoDatabase(Exception):
    """Neither `DATABASE_URL` nor a running local stack names a database."""


def database_url(settings: Settings) -> str:
    """`DATABASE_URL` if set, else the URL the local stack published in the data folder."""
    if settings.database_url:
        return settings.database_url
    try:
        url = (settings.data_dir / URL_FILE).read_text().strip()
    except FileNotFoundError:
        url = ""
    if not url:
        raise NoDatabase(
            f"DATABASE_URL is not set and no local stack is running with data in {settings.data_dir}:"
            " start it with `make run` (from the same folder, or with the same DVR_DATA_DIR),"
            " or set DATABASE_URL"
        )
    return url


def database_url_or_exit(settings: Settings, needed_by: str) -> str:
    """`database_url`, for a process's start-up: with no database named, the process stops at once (exit
    status 1) saying what `needed_by` (e.g. "the worker") needs and how to name one, rather than failing later
    on its first query."""
    try:
        return database_url(settings)
    except NoDatabase as err:
        raise SystemExit(f"{needed_by} needs the application database: {err}") from None


def publish_embedded_url(data_dir: Path, url: str) -> None:
    """Writes the URL for processes started by hand: created owner-only, replaced in one step."""
    path = data_dir / URL_FILE
    draft = data_dir / f".{URL_FILE}.{os.getpid()}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(url + "\n")
    draft.chmod(0o600)  # whatever the umask
    draft.replace(path)


def withdraw_embedded_url(data_dir: Path) -> None:
    (data_dir / URL_FILE).unlink(missing_ok=True)
