"""Strict input through the API: a body is refused (422) as sent, before it reaches a pathway or the database;
repeated wrong keys from one address are throttled (429). The link page's forms refuse what they never
render (400, a plain page)."""

import uuid
from datetime import timedelta

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from db.patient_links import SECRET_PURPOSE, link_for_pathway
from db.signing_secrets import signing_secret
from domain.link_tokens import seal
from tests.integration.conftest import API_KEY
from tests.integration.walk import start_at_mri
from tests.referrals import referral_body


def assert_invalid(response: httpx.Response, *where: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert tuple(response.json()["errors"][0]["loc"]) == ("body", *where)


async def test_loosely_typed_steps_are_refused_not_read(api: httpx.AsyncClient) -> None:
    pathway_id = await start_at_mri(api, "REF-STRICT")
    for pain in (True, "5", 5.0):
        assert_invalid(await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": pain}), "pain")
    review = {"facet_swelling": "true", "reviewed_by": "Dr. R"}
    assert_invalid(await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=review), "facet_swelling")
    view = (await api.get(f"/v1/pathways/{pathway_id}")).json()
    assert view["stage"] == "mri" and view["criteria"]["mri_facet_swelling"] is None


async def test_a_procedure_of_year_1_is_refused_before_the_pathway_sees_it(api: httpx.AsyncClient) -> None:
    pathway_id = await start_at_mri(api, "REF-YEAR-1")
    body = {"status": "completed", "completed_at": "0001-01-01T00:00:00Z", "performed_by": "Dr. M"}
    assert_invalid(await api.post(f"/v1/pathways/{pathway_id}/procedure", json=body), "completed_at")


async def test_nul_in_a_referral_is_422_and_stores_nothing(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    body = referral_body("REF-NUL")
    body["patient"]["given_name"] = "Ada\x00"
    assert_invalid(await api.post("/v1/referrals", json=body), "patient", "given_name")
    stored = await pool.fetchval("select count(*) from patients where mrn = $1", "MRN-REF-NUL")
    assert stored == 0


@pytest.mark.parametrize("phone", ["+999999999999999", "+1602555010"], ids=["no such country", "too short"])
async def test_a_phone_no_country_can_have_is_422_and_not_echoed(
    api: httpx.AsyncClient, pool: asyncpg.Pool, phone: str
) -> None:
    """Shaped like E.164 but not a possible number: refused when given, not at the gateway later."""
    body = referral_body(f"REF-PHONE-{phone[1:6]}")
    body["patient"]["phone"] = phone
    refused = await api.post("/v1/referrals", json=body)
    assert_invalid(refused, "patient", "phone")
    assert phone not in refused.text
    assert await pool.fetchval("select count(*) from patients where phone = $1", phone) == 0

    pathway_id = await start_at_mri(api, f"REF-PHONE-OK-{phone[1:6]}")
    patient_ref = (await api.get(f"/v1/pathways/{pathway_id}")).json()["patient_ref"]
    changed = await api.patch(f"/v1/patients/{patient_ref}", json={"phone": phone})
    assert_invalid(changed, "phone")
    assert phone not in changed.text


@pytest.mark.parametrize(
    "form",
    [
        {"question": "appointment:\x00x", "wish": "reschedule"},  # PostgreSQL takes no NUL: it was a 500
        {"question": "appointment:\x1bx", "wish": "cancel"},
        {"question": "diary:1\x00", "pain": "3"},
        {"question": "diary:1", "pain": "3\x00"},
    ],
    ids=["nul-in-change-key", "escape-in-change-key", "nul-in-question-key", "nul-in-answer"],
)
async def test_nul_in_a_link_page_form_is_400_and_stores_nothing(
    api: httpx.AsyncClient, pool: asyncpg.Pool, form: dict[str, str]
) -> None:
    pathway_id = await start_at_mri(api, f"REF-NUL-LINK-{uuid.uuid4().hex[:8]}")
    patient_ref = (await api.get(f"/v1/pathways/{pathway_id}")).json()["patient_ref"]
    link_id, expires_at = await link_for_pathway(pool, pathway_id, patient_ref, timedelta(days=1))
    token = seal(await signing_secret(pool, SECRET_PURPOSE), link_id, expires_at)
    answer_id = uuid.uuid4()
    sent = await api.post(f"/p/{token}", data={"answer_id": str(answer_id), **form})
    assert sent.status_code == 400, sent.text
    assert sent.headers["content-type"].startswith("text/html")
    stored = "select count(*) from patient_link_answers where answer_id = $1"
    assert await pool.fetchval(stored, answer_id) == 0
    choices = {"answer_id": str(uuid.uuid4()), "granted": "diary\x00", "was_granted": "diary"}
    refused = await api.post(f"/p/{token}/consents", data=choices)
    assert refused.status_code == 400 and refused.headers["content-type"].startswith("text/html")
    assert (
        await pool.fetchval("select count(*) from patient_consents where patient_ref = $1", patient_ref) == 0
    )


async def test_repeated_wrong_keys_are_throttled_per_address(pool: asyncpg.Pool, temporal: Client) -> None:
    app = create_app(Settings(auth_failures_allowed=3), pool=pool, temporal=temporal)

    def from_address(host: str, key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(host, 40000)),
            base_url="http://api.test",
            headers={"Authorization": f"Bearer {key}"},
        )

    async with from_address("192.0.2.7", "dvr_a-guess-at-a-key-of-decent-length") as guesser:
        assert [(await guesser.get("/v1/pathways")).status_code for _ in range(3)] == [401, 401, 401]
        throttled = await guesser.get("/v1/pathways")
        right_key = await guesser.get("/v1/pathways", headers={"Authorization": f"Bearer {API_KEY}"})
    async with from_address("192.0.2.8", API_KEY) as neighbour:
        elsewhere = await neighbour.get("/v1/pathways")
    for response in (throttled, right_key):
        assert response.status_code == 429, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert 0 < int(response.headers["retry-after"]) <= 60
        assert response.json()["type"] == "/problems/too-many-failed-authentications"
    assert elsewhere.status_code == 200


async def test_an_unknown_query_parameter_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/pathways", params={"stag": "closed"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"loc": ["query", "stag"], "msg": "Unknown query parameter", "type": "extra_forbidden"}
    ]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/pathways/pathway-00000000-0000-0000-0000-000000000000"),
        ("POST", "/v1/pathways/pathway-00000000-0000-0000-0000-000000000000/withdraw"),
        ("POST", "/v1/referrals"),
    ],
)
async def test_every_route_refuses_an_unknown_query_parameter(
    api: httpx.AsyncClient, method: str, path: str
) -> None:
    """A misspelt parameter is an error on every route, not only on the list, and nothing is done."""
    response = await api.request(method, path, params={"dry_run": "true"}, json={})
    assert response.status_code == 422, response.text
    assert ["query", "dry_run"] in [e["loc"] for e in response.json()["errors"]]
