"""Retries never create a second pathway."""

import asyncio

import httpx
from temporalio.client import Client

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

    runs = [e async for e in temporal.list_workflows(f"WorkflowId = '{pathway_id}'")]
    assert len(runs) == 1


async def test_concurrent_retries_start_one_pathway(api: httpx.AsyncClient, temporal: Client) -> None:
    body = referral_body("REF-IDEM-2")
    answers = await asyncio.gather(*(api.post("/v1/referrals", json=body) for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]
    assert len({a.json()["pathway_id"] for a in answers}) == 1


async def test_concurrent_requests_with_one_key_and_two_bodies_start_one_pathway(
    api: httpx.AsyncClient, temporal: Client
) -> None:
    bodies = [referral_body("REF-IDEM-5"), referral_body("REF-IDEM-6")]
    answers = await asyncio.gather(
        *(api.post("/v1/referrals", json=b, headers={"Idempotency-Key": "idem-5"}) for b in bodies)
    )
    assert sorted(a.status_code for a in answers) == [201, 422]
    started = [e async for e in temporal.list_workflows("WorkflowId STARTS_WITH 'pathway-'")]
    refused = next(a for a in answers if a.status_code == 422)
    winner = next(a for a in answers if a.status_code == 201).json()["pathway_id"]
    assert refused.json()["type"] == "/problems/idempotency-key-reused"
    assert winner in {e.id for e in started}


async def test_reused_key_with_another_body_is_refused(api: httpx.AsyncClient) -> None:
    await api.post("/v1/referrals", json=referral_body("REF-IDEM-3"), headers={"Idempotency-Key": "idem-3"})
    other = await api.post(
        "/v1/referrals", json=referral_body("REF-IDEM-4"), headers={"Idempotency-Key": "idem-3"}
    )
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["type"] == "/problems/idempotency-key-reused"
