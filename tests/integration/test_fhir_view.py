"""The read-only FHIR R4 view against the real API (dev server, embedded PostgreSQL): a pathway at its relief
check as a Task, its appointments and diary reports as Bundles, the CapabilityStatement, and errors as
OperationOutcomes; every body is a valid R4(B) resource with no PHI in it, every read is audited."""

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from api.fhir.codes import LOINC, PAIN_SCORE, PATIENT_REF_SYSTEM
from db.api_clients import add_client, new_api_key
from tests.fhir_checks import validated
from tests.integration.conftest import READ_ONLY_KEY
from tests.integration.polling import poll_view
from tests.integration.walk import record_steps_to_block, start_at_mri, walk_to_relief_check
from tests.referrals import referral_body

FHIR_JSON = "application/fhir+json"


def _fhir(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    return validated(response.json())


def _phi(referral_id: str) -> list[str]:
    patient = referral_body(referral_id)["patient"]
    return [patient[k] for k in ("mrn", "given_name", "family_name", "birth_date", "phone", "email")]


async def _fhir_reads(pool: asyncpg.Pool, pathway_id: str) -> list[tuple[str, str, str]]:
    rows = await pool.fetch(
        "select actor, action, detail from audit_log where pathway_id = $1 and detail ? 'fhir' order by id",
        pathway_id,
    )
    return [(r["actor"], r["action"], r["detail"]["fhir"]) for r in rows]


async def test_a_pathway_at_its_relief_check_as_fhir(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    referral_id = f"REF-FHIR-{uuid.uuid4().hex[:8]}"
    pathway_id = await walk_to_relief_check(api, referral_id)
    for pain in (2, 6):
        answer = await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": pain})
        assert answer.status_code == 200, answer.text
    view = await poll_view(api, pathway_id, "two reports", lambda v: len(v["relief_check"]["reports"]) == 2)
    # A logical reference by patient_ref: this server serves no Patient to point at.
    patient = {"identifier": {"system": PATIENT_REF_SYSTEM, "value": view["patient_ref"]}}

    task_answer = await api.get(f"/fhir/Task/{pathway_id}")
    task = _fhir(task_answer)
    assert task["resourceType"] == "Task" and task["id"] == pathway_id
    assert task["status"] == ("in-progress" if view["status"] == "active" else "completed")
    assert task["businessStatus"]["coding"][0]["code"] == view["stage"]
    assert task["for"] == patient
    if view["next_action"] is not None:
        assert task["performerType"][0]["coding"][0]["code"] == view["next_action"]["actor"]
        if view["next_action"]["due_at"] is not None:
            assert "end" in task["restriction"]["period"]

    appointments_answer = await api.get(f"/fhir/Task/{pathway_id}/Appointment")
    bundle = _fhir(appointments_answer)
    assert bundle["type"] == "searchset"
    appointments = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}
    assert appointments.keys() == {a["appointment_id"] for a in view["appointments"]}
    assert {a["appointment_id"]: a["status"] for a in view["appointments"]} == {
        i: a["status"] for i, a in appointments.items()
    }
    for appointment in appointments.values():
        assert appointment["participant"][0]["actor"] == patient
        assert appointment["supportingInformation"] == [{"reference": f"Task/{pathway_id}"}]

    responses_answer = await api.get(f"/fhir/Task/{pathway_id}/QuestionnaireResponse")
    responses = [e["resource"] for e in _fhir(responses_answer)["entry"]]
    diary = [r for r in responses if r["contained"][0]["id"] == "pain-diary"]
    pains = []
    for response in diary:
        assert response["resourceType"] == "QuestionnaireResponse" and response["subject"] == patient
        assert response["source"] == patient
        assert response["contained"][0]["item"][0]["code"][0]["system"] == LOINC
        assert response["contained"][0]["item"][0]["code"][0]["code"] == PAIN_SCORE
        (item,) = response["item"]
        assert item["linkId"] == PAIN_SCORE
        pains.append(item["answer"][0]["valueInteger"])
    assert pains == [2, 6]

    bodies = [task_answer.text, appointments_answer.text, responses_answer.text]
    assert all("Patient/" not in body for body in bodies)
    for canary in _phi(referral_id):
        assert all(canary not in body for body in bodies), "PHI in a FHIR body"
    assert await _fhir_reads(pool, pathway_id) == [
        ("integration", "pathway.read", "Task"),
        ("integration", "pathway.read", "Appointment"),
        ("integration", "pathway.read", "QuestionnaireResponse"),
    ]
    # Audited as the JSON API's read is: the pathway and its patient, nothing more.
    row = await pool.fetchrow(
        "select patient_ref::text as ref, detail from audit_log where pathway_id = $1 and detail ? 'fhir'",
        pathway_id,
    )
    assert row is not None and row["ref"] == view["patient_ref"]
    assert json.dumps(dict(row["detail"])) == json.dumps({"fhir": "Task"})

    # Each entry's fullUrl is a read that answers the same resource, audited as the others are.
    entries = [*bundle["entry"], *_fhir(responses_answer)["entry"]]
    assert {e["resource"]["resourceType"] for e in entries} == {"Appointment", "QuestionnaireResponse"}
    for entry in entries:
        assert _fhir(await api.get(entry["fullUrl"])) == entry["resource"]
    reads = [fhir for _, _, fhir in await _fhir_reads(pool, pathway_id)]
    assert reads[3:] == [e["resource"]["resourceType"] for e in entries]

    # Every interaction the CapabilityStatement declares is served.
    ids = {
        "Task": pathway_id,
        "Appointment": entries[0]["resource"]["id"],
        "QuestionnaireResponse": diary[0]["id"],
    }
    statement = _fhir(await api.get("/fhir/metadata"))
    for resource in statement["rest"][0]["resource"]:
        for interaction in resource["interaction"]:
            assert interaction["code"] == "read"
            read = _fhir(await api.get(f"/fhir/{resource['type']}/{ids[resource['type']]}"))
            assert (read["resourceType"], read["id"]) == (resource["type"], ids[resource["type"]])

    # The read-only scope is enough.
    async with _client(api, READ_ONLY_KEY) as reader:
        _fhir(await reader.get(f"/fhir/Task/{pathway_id}"))
        _fhir(await reader.get(f"/fhir/Task/{pathway_id}/QuestionnaireResponse"))
        _fhir(await reader.get(f"/fhir/Appointment/{ids['Appointment']}"))
        _fhir(await reader.get(f"/fhir/QuestionnaireResponse/{ids['QuestionnaireResponse']}"))

    # A response id of this pathway that names no response, or a misspelt appointment id, is unknown.
    for unknown in (
        f"QuestionnaireResponse/{pathway_id}-diary-9-9",
        f"Appointment/{ids['Appointment'].upper()}",
    ):
        assert _fhir(await api.get(f"/fhir/{unknown}"), 404)["issue"][0]["code"] == "not-found"


async def test_a_withdrawn_pathways_task_carries_the_outcome_code_never_the_typed_reason(
    api: httpx.AsyncClient,
) -> None:
    created = await api.post("/v1/referrals", json=referral_body(f"REF-FHIR-WD-{uuid.uuid4().hex[:8]}"))
    assert created.status_code == 201, created.text
    pathway_id = created.json()["pathway_id"]
    canary = f"Patient Canary {uuid.uuid4().hex[:8]} moved to 12 Elm St"
    withdrawn = await api.post(f"/v1/pathways/{pathway_id}/withdraw", json={"reason": canary})
    assert withdrawn.status_code == 200, withdrawn.text
    await poll_view(api, pathway_id, "withdrawn", lambda v: v["outcome"] == "withdrawn")

    answer = await api.get(f"/fhir/Task/{pathway_id}")
    task = _fhir(answer)
    assert task["status"] == "cancelled"
    assert task["statusReason"]["coding"][0]["code"] == "withdrawn"
    assert "Canary" not in answer.text and "Elm St" not in answer.text
    for suffix in ("/Appointment", "/QuestionnaireResponse"):
        assert "Canary" not in (await api.get(f"/fhir/Task/{pathway_id}{suffix}")).text


def _client(api: httpx.AsyncClient, key: str | None) -> httpx.AsyncClient:
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    return httpx.AsyncClient(transport=api._transport, base_url=api.base_url, headers=headers)


async def test_metadata_lists_exactly_the_fhir_reads(api: httpx.AsyncClient) -> None:
    statement = _fhir(await api.get("/fhir/metadata"))
    assert statement["resourceType"] == "CapabilityStatement" and statement["fhirVersion"] == "4.0.1"
    resources = {r["type"]: [i["code"] for i in r["interaction"]] for r in statement["rest"][0]["resource"]}
    # Reads only: the per-pathway Bundles are no type-level search (`GET [base]/Appointment?...`).
    assert resources == {"Task": ["read"], "Appointment": ["read"], "QuestionnaireResponse": ["read"]}
    documented = {r["type"]: r["documentation"] for r in statement["rest"][0]["resource"]}
    for resource in ("Appointment", "QuestionnaireResponse"):
        assert f"GET [base]/Task/{{pathway_id}}/{resource}" in documented[resource]
        assert f"GET [base]/{resource}/{{id}}" in documented[resource]


@pytest.mark.parametrize(
    "path",
    [
        f"Appointment/{uuid.UUID(int=7)}",
        "Appointment/not-a-uuid",
        f"QuestionnaireResponse/pathway-{uuid.UUID(int=7)}-diary-1-1",
        "QuestionnaireResponse/not-a-response",
    ],
)
async def test_an_unknown_resource_id_is_a_404_operation_outcome(api: httpx.AsyncClient, path: str) -> None:
    outcome = _fhir(await api.get(f"/fhir/{path}"), 404)
    assert outcome["issue"][0]["code"] == "not-found"


@pytest.mark.parametrize("suffix", ["", "/Appointment", "/QuestionnaireResponse"])
@pytest.mark.parametrize("pathway_id", [f"pathway-{uuid.UUID(int=7)}", "not-a-pathway"])
async def test_an_unknown_pathway_is_a_404_operation_outcome(
    api: httpx.AsyncClient, pathway_id: str, suffix: str
) -> None:
    outcome = _fhir(await api.get(f"/fhir/Task/{pathway_id}{suffix}"), 404)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "not-found"


async def test_no_key_is_401_and_a_key_without_the_scope_403(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    pathway_id = f"pathway-{uuid.UUID(int=8)}"
    async with _client(api, None) as anonymous:
        answer = await anonymous.get(f"/fhir/Task/{pathway_id}")
    assert _fhir(answer, 401)["issue"][0]["code"] == "login"
    assert "www-authenticate" in answer.headers
    key = new_api_key()
    assert await add_client(pool, f"fhir-no-read-{uuid.uuid4().hex[:8]}", key, ["referrals:write"], None)
    async with _client(api, key) as writer:
        answer = await writer.get(f"/fhir/Task/{pathway_id}")
    assert _fhir(answer, 403)["issue"][0]["code"] == "forbidden"


async def test_a_site_limited_key_gets_404_for_another_sites_pathway(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    theirs = await start_at_mri(api, f"REF-FHIR-SITE-{uuid.uuid4().hex[:8]}")
    await record_steps_to_block(api, theirs)  # so that it has appointments
    _fhir(await api.get(f"/fhir/Task/{theirs}"))
    site = f"fhir-site-{uuid.uuid4().hex[:8]}"
    await pool.execute(
        "insert into clinics (site, name, timezone) values ($1, 'FHIR site test', 'America/Phoenix')", site
    )
    key = new_api_key()
    assert await add_client(pool, f"limited-{site}", key, ["pathways:read"], [site])
    appointment_id = await _an_appointment_of(pool, theirs)
    async with _client(api, key) as limited:
        for path in (
            f"Task/{theirs}",
            f"Task/{theirs}/Appointment",
            f"Task/{theirs}/QuestionnaireResponse",
            f"Appointment/{appointment_id}",
            f"QuestionnaireResponse/{theirs}-diary-1-1",
        ):
            outcome = _fhir(await limited.get(f"/fhir/{path}"), 404)
            assert outcome["issue"][0]["code"] == "not-found"
    assert [who for who, _, _ in await _fhir_reads(pool, theirs)] == ["integration"]


async def _an_appointment_of(pool: asyncpg.Pool, pathway_id: str) -> str:
    """The id of the pathway's first appointment, once it is booked."""
    for _ in range(100):
        found = await pool.fetchval(
            "select appointment_id::text from appointments where pathway_id = $1 order by created_at limit 1",
            pathway_id,
        )
        if found is not None:
            return str(found)
        await asyncio.sleep(0.1)
    raise AssertionError("no appointment booked")


async def test_the_reads_by_id_need_a_key_with_the_scope(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    key = new_api_key()
    assert await add_client(pool, f"fhir-no-read-{uuid.uuid4().hex[:8]}", key, ["referrals:write"], None)
    for path in (
        f"Appointment/{uuid.UUID(int=7)}",
        f"QuestionnaireResponse/pathway-{uuid.UUID(int=7)}-follow-up",
    ):
        async with _client(api, None) as anonymous:
            assert _fhir(await anonymous.get(f"/fhir/{path}"), 401)["issue"][0]["code"] == "login"
        async with _client(api, key) as writer:
            assert _fhir(await writer.get(f"/fhir/{path}"), 403)["issue"][0]["code"] == "forbidden"


async def test_an_undeclared_search_parameter_is_a_422_operation_outcome(api: httpx.AsyncClient) -> None:
    answer = await api.get(f"/fhir/Task/pathway-{uuid.UUID(int=9)}/Appointment", params={"_count": "5"})
    assert _fhir(answer, 422)["issue"][0]["code"] == "invalid"
    assert "5" not in answer.json()["issue"][0]["diagnostics"]


@pytest.mark.parametrize(
    "path",
    ["/fhir", "/fhir/", "/fhir/Patient/abc", "/fhir/Patient?name=x", "/fhir/Task", "/fhir/Task/a/b/c"],
)
async def test_an_unknown_path_under_fhir_is_a_404_operation_outcome(
    api: httpx.AsyncClient, path: str
) -> None:
    async with _client(api, None) as anonymous:  # nothing is served there, whoever asks
        for client in (api, anonymous):
            assert _fhir(await client.get(path), 404)["issue"][0]["code"] == "not-found"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/fhir/Task/x"),
        ("DELETE", f"/fhir/Task/pathway-{uuid.UUID(int=7)}/Appointment"),
        ("PUT", f"/fhir/Appointment/{uuid.UUID(int=7)}"),
        ("PATCH", "/fhir/QuestionnaireResponse/x"),
        ("POST", "/fhir/metadata"),
        ("HEAD", "/fhir/metadata"),
    ],
)
async def test_another_method_on_a_fhir_path_is_a_405_operation_outcome_with_allow(
    api: httpx.AsyncClient, method: str, path: str
) -> None:
    answer = await api.request(method, path)
    assert answer.status_code == 405, answer.text
    assert answer.headers["content-type"].startswith(FHIR_JSON)
    assert answer.headers["allow"] == "GET"
    if method != "HEAD":
        assert validated(answer.json())["issue"][0]["code"] == "not-supported"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/no-such-thing", 404),
        ("GET", "/fhirx/Task/x", 404),
        ("DELETE", f"/v1/pathways/pathway-{uuid.UUID(int=7)}", 405),
    ],
)
async def test_outside_fhir_errors_stay_problem_json(
    api: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    answer = await api.request(method, path)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
