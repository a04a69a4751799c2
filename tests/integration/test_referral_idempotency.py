"""Retries never create a second pathway."""

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.identifiers import pathway_id_for
from tests.referrals import referral_body


async def test_repeated_referral_returns_the_same_pathway(api: httpx.AsyncClient, temporal: Client) -> None:
    body = referral_body("REF-IDEM-1")
    first = await api.post("/v1/referrals", json=body, headers={"Idempotency-Key": "idem-1"})
    replay = await api.post("/v1/referrals", json=body, headers={"Idempotency-Key": "idem-1"})
    other_key = await api.post("/v1/referrals", json=body, headers={"Idempotency-Key": "idem-2"})
    no_key = await api.post("/v1/referrals", json=body)
    assert (first.status_code, replay.status_code, other_key.status_code, no_key.status_code) == (
        201,
        201,
        200,
        200,
    )
    pathway_id = first.json()["pathway_id"]
    assert {r.json()["pathway_id"] for r in (replay, other_key, no_key)} == {pathway_id}

    assert len(await _runs_listed(temporal, pathway_id)) == 1


async def _runs_listed(temporal: Client, workflow_id: str) -> list[object]:
    """The runs of `workflow_id` in visibility, which lags a start by a moment: polled until one shows."""
    for _ in range(100):
        runs: list[object] = [e async for e in temporal.list_workflows(f"WorkflowId = '{workflow_id}'")]
        if runs:
            return runs
        await asyncio.sleep(0.1)
    raise AssertionError("the pathway never showed in visibility")


async def test_a_key_retried_answers_as_its_first_request_did(api: httpx.AsyncClient) -> None:
    """A key whose first request found the pathway already started (200) is answered 200 again, not 201."""
    body = referral_body("REF-IDEM-STATUS")
    started = await api.post("/v1/referrals", json=body)
    found = await api.post("/v1/referrals", json=body, headers={"Idempotency-Key": "idem-status"})
    retried = await api.post("/v1/referrals", json=body, headers={"Idempotency-Key": "idem-status"})
    assert (started.status_code, found.status_code, retried.status_code) == (201, 200, 200)


async def test_concurrent_retries_start_one_pathway(api: httpx.AsyncClient, temporal: Client) -> None:
    body = referral_body("REF-IDEM-2")
    answers = await asyncio.gather(*(api.post("/v1/referrals", json=body) for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]
    assert len({a.json()["pathway_id"] for a in answers}) == 1


async def test_concurrent_requests_with_one_key_and_two_bodies_start_one_pathway(
    api: httpx.AsyncClient, temporal: Client, pool: asyncpg.Pool
) -> None:
    bodies = [referral_body("REF-IDEM-5"), referral_body("REF-IDEM-6")]
    answers = await asyncio.gather(
        *(api.post("/v1/referrals", json=b, headers={"Idempotency-Key": "idem-5"}) for b in bodies)
    )
    assert sorted(a.status_code for a in answers) == [201, 422]
    won, lost = (0, 1) if answers[0].status_code == 201 else (1, 0)
    assert answers[lost].headers["content-type"] == "application/problem+json"
    assert answers[lost].json()["type"] == "/problems/idempotency-key-reused"

    def pathway_of(body: dict[str, Any]) -> str:
        return pathway_id_for(body["source_system"], body["referral_id"])

    winner, loser = pathway_of(bodies[won]), pathway_of(bodies[lost])
    assert answers[won].json()["pathway_id"] == winner
    assert (await temporal.get_workflow_handle(winner).describe()).id == winner
    with pytest.raises(RPCError) as missing:
        await temporal.get_workflow_handle(loser).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND

    patients = "select count(*) from patients where mrn = $1"
    assert await pool.fetchval(patients, bodies[won]["patient"]["mrn"]) == 1
    assert await pool.fetchval(patients, bodies[lost]["patient"]["mrn"]) == 0
    assert await pool.fetchval("select count(*) from audit_log where pathway_id = $1", loser) == 0


async def test_reused_key_with_another_body_is_refused(api: httpx.AsyncClient) -> None:
    await api.post("/v1/referrals", json=referral_body("REF-IDEM-3"), headers={"Idempotency-Key": "idem-3"})
    other = await api.post(
        "/v1/referrals", json=referral_body("REF-IDEM-4"), headers={"Idempotency-Key": "idem-3"}
    )
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["type"] == "/problems/idempotency-key-reused"
