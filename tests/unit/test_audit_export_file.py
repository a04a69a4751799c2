"""The audit export's file: written whole under its name, or not at all, on any file system."""

import errno
import os
import re
from pathlib import Path

import pytest

from admin.audit_export import _opened
from admin.errors import AdminError


def _refuse_links(source: object, target: object) -> None:
    raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))


@pytest.mark.parametrize("code", [errno.EPERM, errno.ENOTSUP, errno.ENOSYS])
def test_without_hard_links_the_export_is_still_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    def refuse(source: object, target: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "link", refuse)
    output = tmp_path / "audit.jsonl"
    with _opened(output) as file:
        file.write("{}\n")
    assert output.read_text() == "{}\n"
    assert [path.name for path in tmp_path.iterdir()] == ["audit.jsonl"]


def test_a_failed_rename_is_a_one_line_error_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse_rename(source: object, target: object) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "link", _refuse_links)
    monkeypatch.setattr(os, "rename", refuse_rename)
    output = tmp_path / "audit.jsonl"
    message = re.escape(f"cannot create {output}: {os.strerror(errno.EIO)}")
    with pytest.raises(AdminError, match=f"^{message}$"), _opened(output) as file:
        file.write("{}\n")
    assert list(tmp_path.iterdir()) == []
