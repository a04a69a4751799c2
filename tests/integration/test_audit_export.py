"""Exporting the audit log of a period: `GET /v1/audit` (scope admin) and `dvr-admin audit export`, the same
entries, oldest first, each export audited, a period bounded."""

import asyncio
import csv
import getpass
import io
import json
import stat
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from db import audit as db_audit
from tests.integration.admin_cli import fetch, run_admin
from tests.integration.conftest import READ_ONLY_KEY


async def _entries(conn: asyncpg.Connection | asyncpg.Pool, day: datetime) -> list[dict[str, Any]]:
    """Three entries on `day` (a day of their own, long past, so no other test writes there) and one on the
    next day; the three as an export shows them."""
    ref, pathway = str(uuid.uuid4()), f"pathway-{uuid.uuid4()}"
    rows = [
        (day + timedelta(hours=9), "nurse-app", "patient.write", ref, pathway, {"fields": ["phone"]}),
        (day + timedelta(hours=1), "worker", "patient.contact.read", ref, pathway, {"message_key": "k"}),
        (day + timedelta(hours=23, minutes=59), "cli:ops", "calendar.load", None, None, {"clinic_site": "x"}),
        (day + timedelta(days=1), "worker", "patient.contact.read", ref, pathway, {}),
    ]
    ids = [
        await conn.fetchval(
            "insert into audit_log (at, actor, action, patient_ref, pathway_id, detail)"
            " values ($1, $2, $3, $4, $5, $6) returning id",
            *row,
        )
        for row in rows
    ]
    exported = [
        {
            "id": n,
            "at": at.astimezone(UTC).isoformat(),
            "actor": actor,
            "action": action,
            "patient_ref": patient_ref,
            "pathway_id": pathway_id,
            "detail": detail,
        }
        for n, (at, actor, action, patient_ref, pathway_id, detail) in zip(ids, rows, strict=True)
    ][:3]
    return sorted(exported, key=lambda e: e["at"])


def _exports(rows: list[asyncpg.Record], since: str) -> list[dict[str, Any]]:
    return [dict(r) for r in rows if r["detail"].get("since") == since]


async def test_the_api_streams_the_period_as_json_lines_and_audits_the_export(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    day = datetime(2001, 3, 1, tzinfo=UTC)
    expected = await _entries(pool, day)
    since, until = "2001-03-01T00:00:00+00:00", "2001-03-02T00:00:00+00:00"
    answer = await api.get("/v1/audit", params={"since": since, "until": until})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/x-ndjson"
    assert answer.headers["cache-control"] == "no-store"
    assert [json.loads(line) for line in answer.text.splitlines()] == expected
    exports = await pool.fetch("select actor, action, detail from audit_log where action = 'audit.export'")
    assert _exports(exports, since) == [
        {
            "actor": "integration",
            "action": "audit.export",
            "detail": {"via": "GET /v1/audit", "since": since, "until": until},
        }
    ]


async def test_a_date_alone_is_00_00_utc(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    expected = await _entries(pool, datetime(2001, 7, 1, tzinfo=UTC))
    answer = await api.get("/v1/audit", params={"since": "2001-07-01", "until": "2001-07-02"})
    assert answer.status_code == 200, answer.text
    assert [json.loads(line) for line in answer.text.splitlines()] == expected
    exports = await pool.fetch("select detail from audit_log where action = 'audit.export'")
    assert {
        "via": "GET /v1/audit",
        "since": "2001-07-01T00:00:00+00:00",
        "until": "2001-07-02T00:00:00+00:00",
    } in [dict(r)["detail"] for r in exports]


@pytest.mark.parametrize(
    ("since", "until", "status", "problem"),
    [
        ("2001-03-02T00:00:00Z", "2001-03-01T00:00:00Z", 422, "invalid-period"),
        ("2001-03-01T00:00:00Z", "2001-03-01T00:00:00Z", 422, "invalid-period"),
        ("2001-01-01T00:00:00Z", "2002-01-02T00:00:01Z", 422, "invalid-period"),
        ("2001-03-01T00:00:00", "2001-03-02T00:00:00Z", 422, "invalid-request"),
        ("yesterday", "2001-03-02T00:00:00Z", 422, "invalid-request"),
        ("2001-13-01", "2001-03-02T00:00:00Z", 422, "invalid-request"),
    ],
)
async def test_a_bad_period_is_refused(
    api: httpx.AsyncClient, since: str, until: str, status: int, problem: str
) -> None:
    answer = await api.get("/v1/audit", params={"since": since, "until": until})
    assert answer.status_code == status, answer.text
    assert answer.json()["type"] == f"/problems/{problem}"


async def test_the_export_needs_the_admin_scope(api: httpx.AsyncClient) -> None:
    params = {"since": "2001-03-01T00:00:00Z", "until": "2001-03-02T00:00:00Z"}
    read_only = await api.get(
        "/v1/audit", params=params, headers={"Authorization": f"Bearer {READ_ONLY_KEY}"}
    )
    assert read_only.status_code == 403
    nobody = await api.get("/v1/audit", params=params, headers={"Authorization": ""})
    assert nobody.status_code == 401


def _cli_entries(database: str, day: datetime) -> list[dict[str, Any]]:
    async def insert() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(database)
        try:
            await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
            return await _entries(conn, day)
        finally:
            await conn.close()

    return asyncio.run(insert())


def test_the_command_exports_json_lines_or_csv_and_audits_each_export(database: str) -> None:
    day = datetime(2001, 4, 1, tzinfo=UTC)
    expected = _cli_entries(database, day)
    jsonl = run_admin(database, "audit", "export", "--since", "2001-04-01", "--until", "2001-04-02")
    assert jsonl.exit_code == 0, jsonl.stderr
    assert [json.loads(line) for line in jsonl.stdout.splitlines()] == expected
    assert jsonl.stderr == "3 audit entries from 2001-04-01T00:00:00+00:00 until 2001-04-02T00:00:00+00:00\n"

    as_csv = run_admin(
        database,
        "audit",
        "export",
        "--since",
        "2001-04-01T00:00:00Z",
        "--until",
        "2001-04-02",
        "--format",
        "csv",
    )
    assert as_csv.exit_code == 0, as_csv.stderr
    table = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(int(r["id"]), r["action"], json.loads(r["detail"])) for r in table] == [
        (e["id"], e["action"], e["detail"]) for e in expected
    ]
    assert table[2]["patient_ref"] == ""

    exports = fetch(database, "select actor, detail from audit_log where action = 'audit.export'")
    assert [(r["actor"], r["detail"]["via"]) for r in _exports(exports, "2001-04-01T00:00:00+00:00")] == [
        (f"cli:{getpass.getuser()}", "dvr-admin audit export")
    ] * 2


def test_the_command_writes_a_new_file_only_its_owner_reads(database: str, tmp_path: Path) -> None:
    _cli_entries(database, datetime(2001, 5, 1, tzinfo=UTC))
    out = tmp_path / "audit.jsonl"
    args = ("audit", "export", "--since", "2001-05-01", "--until", "2001-05-02", "--output", str(out))
    result = run_admin(database, *args)
    assert (result.exit_code, result.stdout) == (0, "")
    assert len(out.read_text().splitlines()) == 3
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    again = run_admin(database, *args)
    assert (again.exit_code, again.stderr) == (1, f"error: {out} exists: name a new file\n")


@pytest.mark.parametrize(
    ("since", "until", "code", "error"),
    [
        ("2001-04-02", "2001-04-01", 1, "error: until must be later than since"),
        ("2001-01-01", "2002-01-03", 1, "error: a period is at most 366 days: export a longer span in parts"),
        ("2001-04-01T00:00", "2001-04-02", 2, "has no offset: add one (Z for UTC), or give a date"),
        ("April", "2001-04-02", 2, "'April' is not a date (YYYY-MM-DD) or an ISO 8601 moment"),
    ],
)
def test_the_command_refuses_a_bad_period(
    database: str, since: str, until: str, code: int, error: str
) -> None:
    result = run_admin(database, "audit", "export", "--since", since, "--until", until)
    assert (result.exit_code, result.stdout) == (code, "")
    assert error in result.stderr


def test_a_command_failing_half_way_leaves_no_file_and_the_same_name_can_be_tried_again(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cli_entries(database, datetime(2001, 6, 1, tzinfo=UTC))
    out = tmp_path / "audit.jsonl"
    args = ("audit", "export", "--since", "2001-06-01", "--until", "2001-06-02", "--output", str(out))
    entries_between = db_audit.entries_between

    async def cut_short(*args: Any, **kwargs: Any) -> AsyncIterator[db_audit.AuditEntry]:
        async for entry in entries_between(*args, **kwargs):
            yield entry
            raise asyncpg.InterfaceError("connection lost")

    with monkeypatch.context() as patched:
        patched.setattr(db_audit, "entries_between", cut_short)
        failed = run_admin(database, *args)
    assert (failed.exit_code, failed.stderr) == (
        1,
        "error: the application database failed: connection lost\n",
    )
    assert list(tmp_path.iterdir()) == []  # neither the file nor a partial one

    again = run_admin(database, *args)
    assert again.exit_code == 0, again.stderr
    assert len(out.read_text().splitlines()) == 3
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert list(tmp_path.iterdir()) == [out]


def _recent_period() -> tuple[str, str]:
    """A day ending a minute ago: not over for long enough to export."""
    until = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    return (until - timedelta(days=1)).isoformat(), until.isoformat()


async def test_a_period_not_over_for_long_enough_is_refused_by_the_api(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    since, until = _recent_period()
    answer = await api.get("/v1/audit", params={"since": since, "until": until})
    assert answer.status_code == 422, answer.text
    assert answer.json()["type"] == "/problems/invalid-period"
    assert "the period must have ended" in answer.json()["detail"]
    exports = await pool.fetch("select actor, action, detail from audit_log where action = 'audit.export'")
    assert _exports(exports, since) == []


def test_a_period_not_over_for_long_enough_is_refused_by_the_command(database: str) -> None:
    since, until = _recent_period()
    result = run_admin(database, "audit", "export", "--since", since, "--until", until)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith("error: the period must have ended: until must be at least 5 minutes ago")
    exports = fetch(database, "select actor, detail from audit_log where action = 'audit.export'")
    assert _exports(exports, since) == []
