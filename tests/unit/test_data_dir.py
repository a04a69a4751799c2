"""The local stack's data folder (Temporal's SQLite file, the bootstrap key, the database URL) is private."""

import stat
from pathlib import Path

from workers.preflight import data_dir_mode, secure_data_dir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_folder_lets_no_one_else_list_read_or_write() -> None:
    assert data_dir_mode() & 0o066 == 0
    assert data_dir_mode() & 0o700 == 0o700


def test_a_new_data_folder_is_created_private(tmp_path: Path) -> None:
    secure_data_dir(tmp_path / "data")
    assert mode(tmp_path / "data") == data_dir_mode()


def test_files_left_readable_by_an_earlier_run_are_made_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    for name in ("temporal.sqlite", "temporal.sqlite-wal", "bootstrap-api-key"):
        (data / name).write_text("x")
        (data / name).chmod(0o644)
    (data / "postgres").mkdir(mode=0o700)
    secure_data_dir(data)
    assert mode(data) == data_dir_mode()
    assert {p.name: mode(p) for p in data.iterdir() if p.is_file()} == {
        "temporal.sqlite": 0o600,
        "temporal.sqlite-wal": 0o600,
        "bootstrap-api-key": 0o600,
    }
    assert mode(data / "postgres") == 0o700
