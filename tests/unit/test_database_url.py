"""Which database a process started by hand uses: DATABASE_URL, else the one the local stack published."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.database import URL_FILE, NoDatabase, database_url, publish_embedded_url, withdraw_embedded_url
from config.settings import Settings

EMBEDDED = "postgresql://postgres:@/postgres?host=/somewhere/.data/postgres"


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_database_url_wins_over_a_published_one(tmp_path: Path) -> None:
    publish_embedded_url(tmp_path, EMBEDDED)
    settings = Settings(data_dir=tmp_path, database_url="postgresql://db.example/dvr")
    assert database_url(settings) == "postgresql://db.example/dvr"


def test_without_database_url_the_published_url_of_the_stack_is_used(tmp_path: Path) -> None:
    publish_embedded_url(tmp_path, EMBEDDED)
    assert database_url(Settings(data_dir=tmp_path, database_url=None)) == EMBEDDED


def test_without_either_the_error_says_how_to_get_a_database(tmp_path: Path) -> None:
    with pytest.raises(NoDatabase, match=r"make run.*or set DATABASE_URL"):
        database_url(Settings(data_dir=tmp_path, database_url=None))


def test_a_withdrawn_url_is_not_used(tmp_path: Path) -> None:
    publish_embedded_url(tmp_path, EMBEDDED)
    withdraw_embedded_url(tmp_path)
    with pytest.raises(NoDatabase):
        database_url(Settings(data_dir=tmp_path, database_url=None))


@pytest.mark.usefixtures("permissive_umask")
def test_the_published_url_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    publish_embedded_url(tmp_path, EMBEDDED)
    publish_embedded_url(tmp_path, EMBEDDED)  # replaced at the next start
    assert stat.S_IMODE((tmp_path / URL_FILE).stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [URL_FILE]
