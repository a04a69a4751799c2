"""A replayed referral never rewrites the stored patient, and a failed request never uses up its key."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from api import intake
from api.app import create_app
from config.settings import Settings
from tests.integration.conftest import API_KEY
from tests.integration.problems import assert_problem
from tests.referrals import referral_body
from workflows.start import start_pathway


def _referral(prefix: str) -> dict[str, Any]:
    return referral_body(f"{prefix}-{uuid.uuid4().hex[:8]}")


def _with_phone(body: dict[str, Any], phone: str) -> dict[str, Any]:
    return {**body, "patient": {**body["patient"], "phone": phone}}


async def _phones(pool: asyncpg.Pool, mrn: str) -> list[str]:
    return [r["phone"] for r in await pool.fetch("select phone from patients where mrn = $1", mrn)]


async def test_a_replay_with_another_phone_is_409_and_changes_nothing(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    body = _referral("REF-REPLAY")
    created = await api.post("/v1/referrals", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert created.status_code == 201, created.text
    replay = await api.post(
        "/v1/referrals",
        json=_with_phone(body, "+16025550999"),
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    problem = assert_problem(replay, 409, "/problems/referral-conflict")
    assert problem["pathway_id"] == created.json()["pathway_id"]
    assert "+16025550999" not in replay.text
    assert await _phones(pool, body["patient"]["mrn"]) == [body["patient"]["phone"]]

    identical = await api.post("/v1/referrals", json=body)
    assert identical.status_code == 200, identical.text
    assert identical.json()["pathway_id"] == created.json()["pathway_id"]


async def test_a_replay_with_another_mrn_is_409_and_stores_no_patient(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    body = _referral("REF-REPLAY-MRN")
    assert (await api.post("/v1/referrals", json=body)).status_code == 201
    other_mrn = f"MRN-OTHER-{uuid.uuid4().hex[:8]}"
    replay = await api.post("/v1/referrals", json={**body, "patient": {**body["patient"], "mrn": other_mrn}})
    assert_problem(replay, 409, "/problems/referral-conflict")
    assert await pool.fetchval("select count(*) from patients where mrn = $1", other_mrn) == 0


async def test_concurrent_replays_with_different_phones_keep_the_first(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    body = _referral("REF-REPLAY-20")
    bodies = [_with_phone(body, f"+1602555{n:04d}") for n in range(20)]
    answers = await asyncio.gather(*(api.post("/v1/referrals", json=b) for b in bodies))
    statuses = [a.status_code for a in answers]
    assert sorted(statuses) == [201] + [409] * 19, [
        a.text for a in answers if a.status_code not in (201, 409)
    ]
    first = bodies[statuses.index(201)]
    assert await _phones(pool, body["patient"]["mrn"]) == [first["patient"]["phone"]]


async def test_concurrent_replays_with_different_mrns_leave_no_orphan_patient(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    body = _referral("REF-REPLAY-MRNS")
    mrns = [f"MRN-RACE-{uuid.uuid4().hex[:8]}" for _ in range(10)]
    bodies = [{**body, "patient": {**body["patient"], "mrn": mrn}} for mrn in mrns]
    answers = await asyncio.gather(*(api.post("/v1/referrals", json=b) for b in bodies))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 9
    stored = await pool.fetch("select mrn from patients where mrn = any($1::text[])", mrns)
    assert [r["mrn"] for r in stored] == [
        bodies[[a.status_code for a in answers].index(201)]["patient"]["mrn"]
    ]


async def test_a_new_referral_for_a_known_patient_keeps_the_stored_contact(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    body = _referral("REF-KNOWN")
    first = await api.post("/v1/referrals", json=body)
    assert first.status_code == 201, first.text
    again = {**_with_phone(body, "+16025550888"), "referral_id": f"{body['referral_id']}-2"}
    second = await api.post("/v1/referrals", json=again)
    assert second.status_code == 201, second.text
    assert second.json()["pathway_id"] != first.json()["pathway_id"]
    assert second.json()["patient_ref"] == first.json()["patient_ref"]
    assert await _phones(pool, body["patient"]["mrn"]) == [body["patient"]["phone"]]


async def test_an_unknown_clinic_does_not_use_up_the_key(api: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = _referral("REF-KEY-CLINIC")
    wrong = await api.post("/v1/referrals", json={**body, "clinic_site": "nowhere-clinic"}, headers=key)
    assert_problem(wrong, 422, "/problems/unknown-clinic-site")
    corrected = await api.post("/v1/referrals", json=body, headers=key)
    assert corrected.status_code == 201, corrected.text


async def test_a_conflicting_replay_does_not_use_up_the_key(api: httpx.AsyncClient) -> None:
    body = _referral("REF-KEY-CONFLICT")
    assert (await api.post("/v1/referrals", json=body)).status_code == 201
    key = {"Idempotency-Key": str(uuid.uuid4())}
    conflict = await api.post("/v1/referrals", json=_with_phone(body, "+16025550777"), headers=key)
    assert_problem(conflict, 409, "/problems/referral-conflict")
    other = _referral("REF-KEY-CONFLICT-NEXT")
    assert (await api.post("/v1/referrals", json=other, headers=key)).status_code == 201


@pytest.fixture
async def crashing_api(
    pool: asyncpg.Pool, temporal: Client, worker: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """The API with a start of the pathway that crashes once."""
    crashes = [RuntimeError("the start crashed")]

    async def crash_once(*args: Any, **kwargs: Any) -> Any:
        if crashes:
            raise crashes.pop()
        return await start_pathway(*args, **kwargs)

    monkeypatch.setattr(intake, "start_pathway", crash_once)
    app = create_app(Settings(profile="demo"), pool=pool, temporal=temporal)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://api.test",
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as client:
        yield client


async def test_a_crashed_request_does_not_use_up_the_key(crashing_api: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    crashed = await crashing_api.post("/v1/referrals", json=_referral("REF-KEY-CRASH"), headers=key)
    assert_problem(crashed, 500, "/problems/internal-error")
    another = await crashing_api.post("/v1/referrals", json=_referral("REF-KEY-CRASH-NEXT"), headers=key)
    assert another.status_code == 201, another.text
