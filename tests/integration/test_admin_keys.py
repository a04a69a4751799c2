"""`dvr-admin keys` (run as `python -m admin`, a process of its own, as staff run it) against the embedded
PostgreSQL and the real API: a created key works and is stored only as its hash, listing shows no key,
rotation and revocation take effect within the time the API keeps a key (5 s), every change is audited
without key material, and every failure is one plain line on stderr with a non-zero status."""

import asyncio
import hashlib
import json
import os
import pwd
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from api.recent import Recent
from config.database import publish_embedded_url
from config.settings import Settings
from db.api_clients import ApiClient
from db.migrate import migration_files
from db.seed import DEMO_SITE

ROOT = Path(__file__).resolve().parents[2]
ACTOR = f"cli:{pwd.getpwuid(os.geteuid()).pw_name}"


@dataclass(frozen=True)
class Ran:
    status: int
    stdout: str
    stderr: str


async def _admin(*args: str, env: dict[str, str]) -> Ran:
    # Only what the command needs: none of this process's DVR_ settings leak in.
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/"), "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "admin",
        *args,
        cwd=ROOT,
        env=base | env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


def _one_line_error(ran: Ran, status: int = 1) -> str:
    """The run failed with `status` and said why in one plain line on stderr, with nothing on stdout."""
    assert ran.status == status, ran
    assert ran.stdout == ""
    assert "Traceback" not in ran.stderr
    lines = ran.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), ran.stderr
    return lines[0]


@pytest.fixture
def name() -> str:
    return f"cli-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def db_env(database: str) -> dict[str, str]:
    return {"DATABASE_URL": database}


async def _created_key(name: str, env: dict[str, str], *options: str) -> str:
    ran = await _admin("keys", "create", name, *options, env=env)
    assert ran.status == 0, ran
    lines = ran.stdout.splitlines()
    assert len(lines) == 1, ran.stdout  # the key alone, so it can be piped
    return lines[0]


def _as(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _audit(pool: asyncpg.Pool, name: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "select actor, action, patient_ref, pathway_id, detail from audit_log"
        " where action like 'api_client.%' and detail->>'client' = $1 order by id",
        name,
    )


async def test_create_prints_a_working_key_once_and_stores_only_its_hash(
    name: str, db_env: dict[str, str], pool: asyncpg.Pool, api: httpx.AsyncClient
) -> None:
    key = await _created_key(name, db_env, "--scope", "pathways:read", "--scope", "referrals:write")
    assert key.startswith("dvr_") and len(key) > 40

    read = await api.get(f"/v1/clinics/{DEMO_SITE}/policy", headers=_as(key))
    assert read.status_code == 200, read.text
    refused = await api.put(f"/v1/clinics/{DEMO_SITE}/policy", json={}, headers=_as(key))
    assert refused.status_code == 403  # admin was not granted

    row = await pool.fetchrow("select * from api_clients where name = $1", name)
    assert row is not None
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in json.dumps({k: str(v) for k, v in dict(row).items()})
    assert (row["scopes"], row["clinic_sites"]) == (["pathways:read", "referrals:write"], None)

    [audited] = await _audit(pool, name)
    assert (audited["actor"], audited["action"]) == (ACTOR, "api_client.create")
    assert (audited["patient_ref"], audited["pathway_id"]) == (None, None)
    assert audited["detail"] == {
        "client": name,
        "scopes": ["pathways:read", "referrals:write"],
        "clinic_sites": None,
    }
    assert key not in json.dumps(audited["detail"]) and row["key_hash"] not in json.dumps(audited["detail"])


async def test_a_key_created_for_a_site_reaches_only_that_site(
    name: str, db_env: dict[str, str], pool: asyncpg.Pool, api: httpx.AsyncClient
) -> None:
    site = f"cli-site-{uuid.uuid4().hex[:8]}"
    await pool.execute(
        "insert into clinics (site, name, timezone) values ($1, 'CLI', 'America/Phoenix')", site
    )
    key = await _created_key(name, db_env, "--scope", "pathways:read", "--site", site)
    assert (await api.get(f"/v1/clinics/{site}/policy", headers=_as(key))).status_code == 200
    assert (await api.get(f"/v1/clinics/{DEMO_SITE}/policy", headers=_as(key))).status_code == 404
    [audited] = await _audit(pool, name)
    assert audited["detail"]["clinic_sites"] == [site]


async def test_list_shows_clients_without_keys_or_hashes(
    name: str, db_env: dict[str, str], pool: asyncpg.Pool
) -> None:
    key = await _created_key(name, db_env, "--scope", "staff:write", "--site", DEMO_SITE)
    key_hash = hashlib.sha256(key.encode()).hexdigest()

    table = await _admin("keys", "list", env=db_env)
    assert table.status == 0, table
    assert table.stdout.splitlines()[0].split() == ["NAME", "SCOPES", "SITES", "CREATED", "REVOKED"]
    [line] = [line for line in table.stdout.splitlines() if line.startswith(f"{name} ")]
    assert line.split()[:3] == [name, "staff:write", DEMO_SITE]
    assert key not in table.stdout and key_hash not in table.stdout

    listed = await _admin("keys", "list", "--json", env=db_env)
    assert listed.status == 0, listed
    [ours] = [client for client in json.loads(listed.stdout) if client["name"] == name]
    assert set(ours) == {"name", "scopes", "clinic_sites", "created_at", "revoked_at"}
    assert (ours["scopes"], ours["clinic_sites"], ours["revoked_at"]) == (["staff:write"], [DEMO_SITE], None)
    assert key not in listed.stdout and key_hash not in listed.stdout

    assert (await _admin("keys", "revoke", name, env=db_env)).status == 0
    again = json.loads((await _admin("keys", "list", "--json", env=db_env)).stdout)
    assert next(client for client in again if client["name"] == name)["revoked_at"] is not None


class Clock:
    """The API's clock for the keys it keeps (api/recent.py), moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def key_clock() -> Clock:
    return Clock()


@pytest.fixture
async def api_keeping_keys(
    pool: asyncpg.Pool, temporal: Client, worker: None, key_clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    """The API as it runs, keeping each key it found for `api_key_cache_seconds` of `key_clock`."""
    settings = Settings(profile="demo")
    app = create_app(settings, pool=pool, temporal=temporal)
    app.state.known_keys = Recent[str, ApiClient](settings.api_key_cache_seconds, clock=key_clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as client:
        yield client


async def test_revoke_stops_the_key_within_the_cache_time_and_again_is_a_no_op(
    name: str,
    db_env: dict[str, str],
    pool: asyncpg.Pool,
    api_keeping_keys: httpx.AsyncClient,
    key_clock: Clock,
) -> None:
    api = api_keeping_keys
    key = await _created_key(name, db_env, "--scope", "pathways:read")
    assert (await api.get(f"/v1/clinics/{DEMO_SITE}/policy", headers=_as(key))).status_code == 200

    revoked = await _admin("keys", "revoke", name, env=db_env)
    assert (revoked.status, revoked.stdout) == (0, ""), revoked
    key_clock.now += Settings(profile="demo").api_key_cache_seconds  # README: within 5 s
    assert (await api.get(f"/v1/clinics/{DEMO_SITE}/policy", headers=_as(key))).status_code == 401

    again = await _admin("keys", "revoke", name, env=db_env)
    assert again.status == 0, again
    assert "already revoked" in again.stderr
    assert [row["action"] for row in await _audit(pool, name)] == ["api_client.create", "api_client.revoke"]
    assert all(row["actor"] == ACTOR for row in await _audit(pool, name))


async def test_rotate_issues_a_new_key_and_the_old_one_stops(
    name: str,
    db_env: dict[str, str],
    pool: asyncpg.Pool,
    api_keeping_keys: httpx.AsyncClient,
    key_clock: Clock,
) -> None:
    api = api_keeping_keys
    old = await _created_key(name, db_env, "--scope", "pathways:read")
    assert (await api.get(f"/v1/clinics/{DEMO_SITE}/policy", headers=_as(old))).status_code == 200
    rotated = await _admin("keys", "rotate", name, env=db_env)
    assert rotated.status == 0, rotated
    [new] = rotated.stdout.splitlines()
    assert new != old
    key_clock.now += Settings(profile="demo").api_key_cache_seconds
    assert (await api.get(f"/v1/clinics/{DEMO_SITE}/policy", headers=_as(old))).status_code == 401
    assert (await api.get(f"/v1/clinics/{DEMO_SITE}/policy", headers=_as(new))).status_code == 200
    audited = await _audit(pool, name)
    assert [row["action"] for row in audited] == ["api_client.create", "api_client.rotate"]
    assert new not in json.dumps([row["detail"] for row in audited])


async def test_bad_input_and_unknown_names_are_one_line_errors(
    name: str, db_env: dict[str, str], pool: asyncpg.Pool
) -> None:
    refusals = {
        ("keys", "create", name, "--scope", "pathways:write"): "unknown scope 'pathways:write'",
        ("keys", "create", name, "--scope", "admin", "--site", "no-such-site"): "unknown clinic site",
        ("keys", "create", "two words", "--scope", "admin"): "is not a client name",
        ("keys", "create", "bootstrap", "--scope", "admin"): "the local stack's own client",
        ("keys", "revoke", name): "no API client is named",
        ("keys", "rotate", name): "no API client is named",
        ("keys", "revoke", "bootstrap"): "cannot revoke 'bootstrap'",
    }
    typed_wrong = {  # a command line typed wrong: one line too, status 2
        ("keys", "create", name): "--scope",
        ("keys", "remove", name): "No such command",
    }
    # Run at once: each is refused without a change, so none depends on another's outcome.
    ran = await asyncio.gather(*(_admin(*args, env=db_env) for args in [*refusals, *typed_wrong]))
    for (args, said), run in zip(refusals.items(), ran[: len(refusals)], strict=True):
        assert said in _one_line_error(run), args
    for (args, said), run in zip(typed_wrong.items(), ran[len(refusals) :], strict=True):
        assert said in _one_line_error(run, status=2), args
    assert await pool.fetchval("select count(*) from api_clients where name = $1", name) == 0
    assert await _audit(pool, name) == []


async def test_a_name_in_use_is_refused_with_how_to_rotate(
    name: str, db_env: dict[str, str], pool: asyncpg.Pool
) -> None:
    await _created_key(name, db_env, "--scope", "pathways:read")
    taken = _one_line_error(await _admin("keys", "create", name, "--scope", "admin", env=db_env))
    assert f"keys rotate {name}" in taken
    assert (await _admin("keys", "revoke", name, env=db_env)).status == 0
    reused = _one_line_error(await _admin("keys", "create", name, "--scope", "admin", env=db_env))
    assert "not reused" in reused
    assert "revoked" in _one_line_error(await _admin("keys", "rotate", name, env=db_env))
    assert await pool.fetchval("select scopes from api_clients where name = $1", name) == ["pathways:read"]


async def test_it_finds_the_local_stacks_database_without_flags(
    name: str, database: str, tmp_path: Path
) -> None:
    publish_embedded_url(tmp_path, database)  # as a running `make run` does in its data folder
    await _created_key(name, {"DVR_DATA_DIR": str(tmp_path)}, "--scope", "pathways:read")
    listed = await _admin("keys", "list", "--json", env={"DVR_DATA_DIR": str(tmp_path)})
    assert name in {client["name"] for client in json.loads(listed.stdout)}


async def test_no_database_is_one_line_that_says_what_to_do(tmp_path: Path) -> None:
    said = _one_line_error(await _admin("keys", "list", env={"DVR_DATA_DIR": str(tmp_path)}))
    assert "make run" in said and "DATABASE_URL" in said


async def test_an_unreachable_database_is_one_line_without_the_password() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://dvr:pa55-w0rd-never-shown@127.0.0.1:{port}/dvr"
    said = _one_line_error(await _admin("keys", "list", env={"DATABASE_URL": url}))
    assert "cannot reach the application database" in said
    assert "pa55-w0rd-never-shown" not in said


async def test_a_database_without_the_migrations_is_refused(database: str, pool: asyncpg.Pool) -> None:
    empty = f"cli_unmigrated_{uuid.uuid4().hex[:8]}"
    await pool.execute(f"create database {empty}")
    url = database.replace("/postgres?", f"/{empty}?")
    assert url != database
    said = _one_line_error(await _admin("keys", "list", env={"DATABASE_URL": url}))
    assert "lacks the migrations" in said and migration_files()[-1][0] in said
