"""Bad input gets a clear problem+json answer and changes nothing."""

import httpx
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from db.pool import create_pool
from tests.integration.conftest import READ_ONLY_KEY
from tests.integration.polling import next_action_is, poll_view
from tests.referrals import referral_body

UNKNOWN = "pathway-00000000-0000-5000-8000-000000000000"


def _problem(response: httpx.Response, status: int, problem_type: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["type"] == problem_type and body["status"] == status
    return body


async def test_missing_or_wrong_key_is_401(api: httpx.AsyncClient) -> None:
    no_key = await api.get(f"/v1/pathways/{UNKNOWN}", headers={"Authorization": ""})
    _problem(no_key, 401, "/problems/unauthorized")
    assert no_key.headers["www-authenticate"].startswith("Bearer")
    wrong = await api.get(f"/v1/pathways/{UNKNOWN}", headers={"Authorization": "Bearer dvr_not-a-key"})
    _problem(wrong, 401, "/problems/unauthorized")
    malformed_id = await api.post("/v1/pathways/nonsense/exam", json={}, headers={"Authorization": ""})
    _problem(malformed_id, 401, "/problems/unauthorized")


async def test_key_without_the_scope_is_403(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/referrals", json=referral_body("REF-403"), headers={"Authorization": f"Bearer {READ_ONLY_KEY}"}
    )
    body = _problem(response, 403, "/problems/forbidden")
    assert "referrals:write" in str(body["detail"])


async def test_unknown_pathway_is_404(api: httpx.AsyncClient) -> None:
    _problem(await api.get(f"/v1/pathways/{UNKNOWN}"), 404, "/problems/pathway-not-found")
    _problem(await api.get("/v1/pathways/not-a-pathway-id"), 404, "/problems/pathway-not-found")
    response = await api.post(f"/v1/pathways/{UNKNOWN}/withdraw", json={"reason": "test"})
    _problem(response, 404, "/problems/pathway-not-found")


async def test_invalid_referral_is_422_without_echoing_phi(api: httpx.AsyncClient) -> None:
    body = referral_body("REF-422")
    body["patient"]["phone"] = "call Ada Example at home"
    body["patient"]["birth_date"] = "2999-01-01"
    response = await api.post("/v1/referrals", json=body)
    problem = _problem(response, 422, "/problems/invalid-request")
    assert {tuple(e["loc"]) for e in problem["errors"]} >= {  # type: ignore[attr-defined]
        ("body", "patient", "phone"),
        ("body", "patient", "birth_date"),
    }
    assert "Ada" not in response.text and "2999" not in response.text


async def test_unknown_clinic_is_422(api: httpx.AsyncClient) -> None:
    body = referral_body("REF-NOCLINIC")
    body["clinic_site"] = "tucson-east"
    _problem(await api.post("/v1/referrals", json=body), 422, "/problems/unknown-clinic-site")


async def test_wrong_stage_is_409_and_invalid_step_is_422(api: httpx.AsyncClient) -> None:
    created = await api.post("/v1/referrals", json=referral_body("REF-409"))
    pathway_id = created.json()["pathway_id"]
    await poll_view(api, pathway_id, "mri review due", next_action_is("mri_review"))
    early = await api.post(
        f"/v1/pathways/{pathway_id}/exam", json={"palpation_concordant": True, "examined_by": "Dr. Early"}
    )
    body = _problem(early, 409, "/problems/wrong-stage")
    assert body["detail"] == "exam is recorded in exam, not mri"
    bad = await api.post(f"/v1/pathways/{pathway_id}/mri-review", json={"facet_swelling": "perhaps"})
    _problem(bad, 422, "/problems/invalid-request")
    view = (await api.get(f"/v1/pathways/{pathway_id}")).json()
    assert view["stage"] == "mri" and view["criteria"]["exam_concordant"] is None

    withdrawn = await api.post(f"/v1/pathways/{pathway_id}/withdraw", json={"reason": "moved away"})
    assert withdrawn.status_code == 200 and withdrawn.json()["outcome"] == "withdrawn"
    again = await api.post(f"/v1/pathways/{pathway_id}/withdraw", json={"reason": "again"})
    _problem(again, 409, "/problems/pathway-closed")


async def test_foreign_page_token_is_422(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/pathways", params={"page_token": "bm90LWEtdG9rZW4="})
    _problem(response, 422, "/problems/invalid-page-token")


async def test_readyz_reports_both_dependencies(api: httpx.AsyncClient) -> None:
    response = await api.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"temporal": "ok", "postgres": "ok"}


async def test_readyz_is_503_when_postgres_is_unreachable(database: str, temporal: Client) -> None:
    closed = await create_pool(database, max_size=1)
    await closed.close()
    app = create_app(Settings(), pool=closed, temporal=temporal)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"temporal": "ok", "postgres": "unreachable"}
