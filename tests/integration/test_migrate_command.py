"""`python -m db.migrate` against a real, empty PostgreSQL database, as the compose stack's migrations job
runs it: every migration applied, the bootstrap key installed, and a second run changing nothing."""

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from db.api_clients import client_for_key
from db.bootstrap import BOOTSTRAP_CLIENT
from db.migrate import migration_files
from tests.deploy_files import ROOT

BOOTSTRAP_KEY = "dvr_the-deployments-first-key-0123456789"


@pytest.fixture
async def empty_database(database: str) -> AsyncIterator[str]:
    """The URL of a new, empty database on the embedded server."""
    name = f"migrate_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(database)
    await admin.execute(f"create database {name}")
    try:
        yield urlsplit(database)._replace(path=f"/{name}").geturl()
    finally:
        await admin.execute(f"drop database {name} with (force)")
        await admin.close()


async def run_migrate(url: str, tmp_path: Path, bootstrap_key: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": url,
        "DVR_DATA_DIR": str(tmp_path),
    }
    if bootstrap_key:
        env["DVR_BOOTSTRAP_API_KEY"] = bootstrap_key
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "db.migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


async def test_the_job_migrates_an_empty_database_and_installs_the_first_key(
    empty_database: str, tmp_path: Path
) -> None:
    first = await run_migrate(empty_database, tmp_path, BOOTSTRAP_KEY)
    assert first.returncode == 0, first.stderr
    conn = await asyncpg.connect(empty_database)
    try:
        applied = [r["version"] for r in await conn.fetch("select version from schema_migrations order by 1")]
        assert applied == [version for version, _ in migration_files()]
        client = await client_for_key(conn, BOOTSTRAP_KEY)
        assert client is not None and client.name == BOOTSTRAP_CLIENT
    finally:
        await conn.close()
    assert BOOTSTRAP_KEY not in first.stdout + first.stderr

    again = await run_migrate(empty_database, tmp_path)
    assert again.returncode == 0, again.stderr
    # Its output is not a terminal: JSON lines, as the migrations job logs in production.
    lines = [json.loads(line) for line in again.stderr.splitlines() if line.startswith("{")]
    assert [line["applied"] for line in lines if line["event"] == "migrations.done"] == [0]
