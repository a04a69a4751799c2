"""The version a pathway's view is read as (workflows/view_version.py) follows the code that builds it: any
change to a source file of `domain/` or `workflows/`, its content or its name, is a new version, and the
same code is the same version; the API serves copies of its own version only (api/read_copy.py)."""

from pathlib import Path

import pytest

from api import read_copy
from workflows.view_version import PACKAGES, VIEW_CODE_VERSION, code_version


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_change_to_any_source_of_the_view_is_a_new_version(tmp_path: Path) -> None:
    files = {"domain/view.py": "A = 1\n", "workflows/pathway.py": "B = 2\n", "workflows/sub/x.py": ""}
    before = code_version(_tree(tmp_path / "one", files))
    assert code_version(_tree(tmp_path / "two", files)) == before  # the same code, elsewhere
    for changed in (
        {**files, "domain/view.py": "A = 2\n"},  # content
        {**files, "workflows/sub/x.py": "# a comment\n"},  # a file in a sub-package
        {"domain/view.py": "A = 1\n", "workflows/pathway2.py": "B = 2\n", "workflows/sub/x.py": ""},  # a name
    ):
        root = tmp_path / str(abs(hash(str(changed))))
        assert code_version(_tree(root, changed)) != before


def test_files_outside_the_views_packages_do_not_count(tmp_path: Path) -> None:
    files = {"domain/view.py": "A = 1\n", "workflows/pathway.py": "B = 2\n"}
    before = code_version(_tree(tmp_path / "one", files))
    others = {**files, "api/app.py": "C = 3\n", "domain/notes.txt": "not code\n"}
    assert code_version(_tree(tmp_path / "two", others)) == before


def test_a_build_without_sources_is_refused_rather_than_read_as_one_version(tmp_path: Path) -> None:
    _tree(tmp_path, {"domain/view.pyc": "", "workflows/README": ""})
    with pytest.raises(RuntimeError, match="no Python sources of domain, workflows"):
        code_version(tmp_path)


def test_the_api_serves_the_version_of_its_own_checkout() -> None:
    assert PACKAGES == ("domain", "workflows")
    assert read_copy.VIEW_VERSION == VIEW_CODE_VERSION == code_version()
