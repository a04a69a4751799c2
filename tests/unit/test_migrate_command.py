"""`python -m db.migrate`, the deployment's migrations job: what it does before it reaches a database (the
migrations themselves: tests/integration/test_migrate_command.py)."""

import subprocess
import sys
from pathlib import Path

from tests.deploy_files import ROOT


def migrate(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "db.migrate"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_without_a_database_it_stops_and_says_which_setting_is_missing(tmp_path: Path) -> None:
    result = migrate({"DVR_DATA_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert "the migrations need the application database: DATABASE_URL is not set" in result.stderr


def test_a_weak_bootstrap_key_is_refused_before_any_database_is_touched(tmp_path: Path) -> None:
    # Nothing listens at this URL: the refusal comes first, and it never shows the key.
    result = migrate(
        {
            "DATABASE_URL": "postgresql://dvr@127.0.0.1:9/dvr",
            "DVR_BOOTSTRAP_API_KEY": "dvr_short-key",
            "DVR_DATA_DIR": str(tmp_path),
        }
    )
    assert result.returncode == 1
    assert "bootstrap_api_key" in result.stderr
    assert "dvr_short-key" not in result.stderr
