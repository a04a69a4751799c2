"""`dvr-admin calendar load`: says what it changed, changes nothing the second time, audits a change, writes
nothing on a dry run or an invalid file."""

import getpass
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.admin_cli import fetch, run_admin
from tests.integration.fresh_database import fresh_database_sync

EXAMPLE = Path(__file__).parents[2] / "examples" / "calendar.yaml"


@pytest.fixture
def fresh_url(database: str) -> Iterator[str]:
    with fresh_database_sync(database) as url:
        yield url


def _audit(url: str) -> list[dict[str, object]]:
    rows = fetch(
        url, "select actor, action, detail from audit_log where action = 'calendar.load' order by id"
    )
    return [dict(r) for r in rows]


def test_a_load_says_what_changed_audits_it_and_a_second_load_changes_nothing(fresh_url: str) -> None:
    first = run_admin(fresh_url, "calendar", "load", str(EXAMPLE))
    assert first.exit_code == 0, first.stderr
    assert first.stdout.splitlines()[:3] == [
        "phoenix-main: changed:",
        "  clinic: created",
        "  resources added: phx-mri-1, phx-dr-lee, phx-dr-patel, phx-dr-moreno, phx-proc-room-1",
    ]
    audited = _audit(fresh_url)
    assert len(audited) == 1
    assert audited[0]["actor"] == f"cli:{getpass.getuser()}"
    detail = audited[0]["detail"]
    assert isinstance(detail, dict)
    assert detail["clinic_site"] == "phoenix-main" and len(detail["file_sha256"]) == 64
    assert detail["changes"]["kinds_changed"] == ["block", "dvr", "exam", "mri"]

    second = run_admin(fresh_url, "calendar", "load", str(EXAMPLE))
    assert second.exit_code == 0, second.stderr
    assert second.stdout == "phoenix-main: the calendar already matches calendar.yaml; nothing changed\n"
    assert len(_audit(fresh_url)) == 1


def test_a_dry_run_says_what_would_change_and_writes_nothing(fresh_url: str) -> None:
    result = run_admin(fresh_url, "calendar", "load", "--dry-run", str(EXAMPLE))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("phoenix-main: would change:\n  clinic: created\n")
    assert fetch(fresh_url, "select site from clinics") == []
    assert fetch(fresh_url, "select id from audit_log") == []


def test_an_invalid_file_lists_every_problem_and_writes_nothing(fresh_url: str, tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("    latest_start: 10:30", "    latest_start: 10.30")
    text = text.replace("  - id: phx-dr-patel\n", "  - id: phx dr patel\n")
    (tmp_path / "calendar.yaml").write_text(text)
    result = run_admin(fresh_url, "calendar", "load", str(tmp_path / "calendar.yaml"))
    assert result.exit_code == 1
    line = {
        marker: n
        for n, row in enumerate(text.splitlines(), start=1)
        for marker in ("phx dr", "10.30")
        if marker in row
    }
    assert result.stderr.splitlines() == [
        f"calendar.yaml line {line['phx dr']}: resources[3].id: 'phx dr patel' is not an id: up to 64"
        " letters, digits and . _ : -",
        f"calendar.yaml line {line['10.30']}: appointment_kinds.block.latest_start: '10.30' is not a time of"
        " day as HH:MM (24-hour clock)",
        "error: calendar.yaml: 2 problem(s) above; nothing was loaded",
    ]
    assert result.stdout == ""
    assert fetch(fresh_url, "select site from clinics") == []


def test_a_resource_id_another_clinic_owns_is_refused(fresh_url: str, tmp_path: Path) -> None:
    assert run_admin(fresh_url, "calendar", "load", str(EXAMPLE)).exit_code == 0
    text = EXAMPLE.read_text().replace("  site: phoenix-main", "  site: tucson")
    (tmp_path / "tucson.yaml").write_text(text)
    result = run_admin(fresh_url, "calendar", "load", str(tmp_path / "tucson.yaml"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: resource ids belong to another clinic: phx-mri-1 (phoenix-main),")
    assert result.stderr.endswith("give these resources new ids; nothing was loaded\n")
    assert [r["site"] for r in fetch(fresh_url, "select site from clinics")] == ["phoenix-main"]
