"""A referral for a known MRN names the patient stored under it, or is refused: never merged into another."""

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.identifiers import pathway_id_for
from tests.integration.problems import assert_problem
from tests.referrals import referral_body

BOB = {"given_name": "Bob", "birth_date": "1990-01-01", "phone": "+16025550444", "email": "bob@example.org"}


def _referral(prefix: str, mrn: str | None = None, **patient: Any) -> dict[str, Any]:
    body = referral_body(f"{prefix}-{uuid.uuid4().hex[:8]}")
    body["patient"] = {**body["patient"], **({"mrn": mrn} if mrn else {}), **patient}
    return body


async def _row(pool: asyncpg.Pool, query: str, mrn: str) -> dict[str, Any]:
    row = await pool.fetchrow(query, mrn)
    assert row is not None
    return dict(row)


def _pathway_id(body: dict[str, Any]) -> str:
    return pathway_id_for(body["source_system"], body["referral_id"])


async def _not_started(temporal: Client, pathway_id: str) -> bool:
    try:
        await temporal.get_workflow_handle(pathway_id).describe()
    except RPCError as err:
        return err.status == RPCStatusCode.NOT_FOUND
    return False


async def test_another_identity_under_a_known_mrn_is_409_and_writes_nothing(
    api: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client
) -> None:
    ada = _referral("REF-ID-ADA")
    mrn = ada["patient"]["mrn"]
    first = await api.post("/v1/referrals", json=ada)
    assert first.status_code == 201, first.text
    before = await _row(pool, "select * from patients where mrn = $1", mrn)

    bob = _referral("REF-ID-BOB", mrn, **BOB)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    refused = await api.post("/v1/referrals", json=bob, headers=key)
    problem = assert_problem(refused, 409, "/problems/patient-identity-conflict")
    assert "another identity" in problem["detail"]
    for phi in (mrn, "Bob", "Ada", "1990-01-01", "1968-04-02", BOB["phone"], BOB["email"]):
        assert phi not in refused.text
    assert first.json()["patient_ref"] not in refused.text

    assert await _row(pool, "select * from patients where mrn = $1", mrn) == before
    assert await pool.fetchval("select count(*) from referrals where pathway_id = $1", _pathway_id(bob)) == 0
    assert await _not_started(temporal, _pathway_id(bob))
    # The key was released: the corrected request may use it.
    corrected = await api.post("/v1/referrals", json=_referral("REF-ID-NEXT"), headers=key)
    assert corrected.status_code == 201, corrected.text


@pytest.mark.parametrize(
    "change",
    [{"given_name": "Bob"}, {"family_name": "Other"}, {"birth_date": "1990-01-01"}],
    ids=["given_name", "family_name", "birth_date"],
)
async def test_each_identity_field_counts(
    api: httpx.AsyncClient, pool: asyncpg.Pool, change: dict[str, str]
) -> None:
    ada = _referral("REF-ID-FIELD")
    assert (await api.post("/v1/referrals", json=ada)).status_code == 201
    other = _referral("REF-ID-FIELD-2", ada["patient"]["mrn"], **change)
    assert_problem(await api.post("/v1/referrals", json=other), 409, "/problems/patient-identity-conflict")
    assert (
        await pool.fetchval("select count(*) from referrals where pathway_id = $1", _pathway_id(other)) == 0
    )


async def test_the_same_identity_in_other_case_and_spacing_is_the_known_patient(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    ada = _referral("REF-ID-CASE")
    first = await api.post("/v1/referrals", json=ada)
    assert first.status_code == 201, first.text
    again = _referral(
        "REF-ID-CASE-2",
        ada["patient"]["mrn"],
        given_name="  ADA ",
        family_name="example",
        phone="+16025550333",
    )
    second = await api.post("/v1/referrals", json=again)
    assert second.status_code == 201, second.text
    assert second.json()["patient_ref"] == first.json()["patient_ref"]
    stored = await _row(pool, "select given_name, phone from patients where mrn = $1", ada["patient"]["mrn"])
    assert stored == {"given_name": "Ada", "phone": ada["patient"]["phone"]}


async def test_concurrent_first_referrals_of_one_mrn_with_other_identities_register_one(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    mrn = f"MRN-ID-RACE-{uuid.uuid4().hex[:8]}"
    bodies = [_referral("REF-ID-RACE", mrn, given_name=f"Person{n}") for n in range(10)]
    answers = await asyncio.gather(*(api.post("/v1/referrals", json=b) for b in bodies))
    statuses = [a.status_code for a in answers]
    assert sorted(statuses) == [201] + [409] * 9, [a.text for a in answers]
    winner = bodies[statuses.index(201)]
    stored = await pool.fetch("select given_name from patients where mrn = $1", mrn)
    assert [r["given_name"] for r in stored] == [winner["patient"]["given_name"]]
    stored_referrals = await pool.fetchval(
        "select count(*) from referrals where pathway_id = any($1::text[])", [_pathway_id(b) for b in bodies]
    )
    assert stored_referrals == 1
