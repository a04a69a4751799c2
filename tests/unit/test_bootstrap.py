"""The bootstrap API key of the local stack: configured, or generated once and kept in the data folder."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from db.bootstrap import KEY_FILE, bootstrap_key

CONFIGURED = "dvr_configured-key-of-enough-strength-1"
KEPT = "dvr_kept-from-an-earlier-run-of-the-stack"


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    # The key file must be private whatever the umask of the shell that started the stack.
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def key_from(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The key the stack installs, with these environment variables set."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    return bootstrap_key(settings.data_dir, settings.bootstrap_api_key)


def test_the_configured_key_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / KEY_FILE).write_text(KEPT + "\n")
    environment = {"DVR_DATA_DIR": str(tmp_path), "DVR_BOOTSTRAP_API_KEY": CONFIGURED}
    assert key_from(environment, monkeypatch) == CONFIGURED
    assert (tmp_path / KEY_FILE).read_text() == KEPT + "\n"


def test_a_configured_key_leaves_no_file(tmp_path: Path) -> None:
    assert bootstrap_key(tmp_path, CONFIGURED) == CONFIGURED
    assert not (tmp_path / KEY_FILE).exists()


@pytest.mark.usefixtures("permissive_umask")
def test_without_a_configured_key_one_is_generated_and_kept_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DVR_BOOTSTRAP_API_KEY", raising=False)
    key = key_from({"DVR_DATA_DIR": str(tmp_path)}, monkeypatch)
    assert key.startswith("dvr_")
    assert len(key) > 32
    path = tmp_path / KEY_FILE
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_generated_key_is_the_same_on_the_next_run(tmp_path: Path) -> None:
    first = bootstrap_key(tmp_path)
    assert bootstrap_key(tmp_path) == first
    assert bootstrap_key(tmp_path, None) == first
    assert bootstrap_key(tmp_path, "") == first  # an empty DVR_BOOTSTRAP_API_KEY is not a key


def test_each_data_folder_gets_its_own_key(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert bootstrap_key(tmp_path / "a") != bootstrap_key(tmp_path / "b")


@pytest.mark.parametrize("left_behind", ["", "\n", "  \n"])
@pytest.mark.usefixtures("permissive_umask")
def test_an_empty_kept_key_file_counts_as_none_and_a_new_key_replaces_it(
    tmp_path: Path, left_behind: str
) -> None:
    path = tmp_path / KEY_FILE
    path.write_text(left_behind)  # a crash between creating the file and writing the key
    key = bootstrap_key(tmp_path)
    assert key.startswith("dvr_")
    assert path.read_text() == key + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert bootstrap_key(tmp_path) == key
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE]  # no draft left beside it


def test_a_key_write_that_fails_leaves_no_key_file_and_no_draft(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        bootstrap_key(tmp_path)
    assert list(tmp_path.iterdir()) == []  # the next start generates one, not fails
