"""A key limited to one clinic site, against the real API: it sees and changes only that site's pathways,
patients and policy; the rest is unknown to it (404), and a referral for another site is refused (403).

The demo clinic (`phoenix-main`) is the other site here; each test's key is limited to a clinic of its own.
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from db.seed import DEMO_SITE
from domain.identifiers import pathway_id_for
from tests.integration.limited_keys import limited_api
from tests.integration.polling import list_all, next_action_is, poll_list, poll_view
from tests.integration.problems import assert_problem
from tests.referrals import referral_body


@dataclass(frozen=True)
class Limited:
    site: str
    api: httpx.AsyncClient
    """Sends the key limited to `site` (every scope)."""


@pytest.fixture
async def limited(pool: asyncpg.Pool, temporal: Client, worker: None) -> AsyncIterator[Limited]:
    async with limited_api(pool, temporal, "site-limit") as (site, client):
        yield Limited(site, client)


async def _start(api: httpx.AsyncClient, site: str, label: str) -> dict[str, Any]:
    body = referral_body(f"REF-SITE-{label}-{uuid.uuid4().hex[:8]}") | {"clinic_site": site}
    created = await api.post("/v1/referrals", json=body)
    assert created.status_code == 201, created.text
    view: dict[str, Any] = created.json()
    return view


async def test_the_list_shows_only_the_keys_site(api: httpx.AsyncClient, limited: Limited) -> None:
    ours = (await _start(limited.api, limited.site, "ours"))["pathway_id"]
    theirs = (await _start(api, DEMO_SITE, "theirs"))["pathway_id"]
    # Both listed to an unlimited key first (the listing is eventually consistent).
    await poll_list(api, {"clinic_site": limited.site}, "ours", lambda ids: ours in ids)
    await poll_list(api, {"clinic_site": DEMO_SITE}, "theirs", lambda ids: theirs in ids)

    listed = await list_all(limited.api, {})
    assert ours in {item["pathway_id"] for item in listed}
    assert {item["clinic_site"] for item in listed} == {limited.site}
    # Asking for another site by name does not lift the limit.
    assert await list_all(limited.api, {"clinic_site": DEMO_SITE}) == []


async def test_another_sites_pathway_is_unknown_to_read_and_to_step(
    api: httpx.AsyncClient, limited: Limited
) -> None:
    theirs = (await _start(api, DEMO_SITE, "theirs"))["pathway_id"]
    ours = (await _start(limited.api, limited.site, "ours"))["pathway_id"]
    before = await poll_view(api, theirs, "mri review due", next_action_is("mri_review"))
    unknown = f"pathway-{uuid.uuid4()}"

    read = assert_problem(await limited.api.get(f"/v1/pathways/{theirs}"), 404, "/problems/pathway-not-found")
    never = assert_problem(
        await limited.api.get(f"/v1/pathways/{unknown}"), 404, "/problems/pathway-not-found"
    )
    assert read["detail"] == never["detail"]  # nothing tells it from a pathway that does not exist
    assert (await limited.api.get(f"/v1/pathways/{ours}")).status_code == 200

    review = {"facet_swelling": True, "levels": ["L4-L5"], "side": "left", "reviewed_by": "Dr. Lee"}
    step = await limited.api.post(f"/v1/pathways/{theirs}/mri-review", json=review)
    assert_problem(step, 404, "/problems/pathway-not-found")
    # Even an invalid body: the pathway is unknown before the body is read, as a pathway that never was.
    assert_problem(
        await limited.api.post(f"/v1/pathways/{theirs}/mri-review", json={}),
        404,
        "/problems/pathway-not-found",
    )
    assert_problem(
        await limited.api.post(f"/v1/pathways/{unknown}/mri-review", json={}),
        404,
        "/problems/pathway-not-found",
    )
    after = (await api.get(f"/v1/pathways/{theirs}")).json()
    assert (after["stage"], after["criteria"]) == (before["stage"], before["criteria"])  # no step was taken


async def test_every_route_on_a_pathway_answers_404_for_another_sites(
    api: httpx.AsyncClient, limited: Limited
) -> None:
    theirs = (await _start(api, DEMO_SITE, "theirs"))["pathway_id"]
    app = create_app(Settings())
    routes = [c.original_route for c in iter_route_contexts(app.routes)]
    on_a_pathway = [r for r in routes if isinstance(r, APIRoute) and "{pathway_id}" in r.path]
    assert len(on_a_pathway) > 10
    for route in on_a_pathway:
        path = route.path.format(pathway_id=theirs, appointment_id=uuid.uuid4())
        for method in route.methods or ():
            answer = await limited.api.request(method, path, json={} if method != "GET" else None)
            if route.path.startswith("/fhir/"):  # the FHIR view answers its errors as OperationOutcomes
                assert answer.status_code == 404, answer.text
                assert answer.headers["content-type"] == "application/fhir+json"
                assert answer.json()["issue"][0]["code"] == "not-found"
            else:
                assert_problem(answer, 404, "/problems/pathway-not-found")


async def test_a_referral_for_another_site_is_refused(
    api: httpx.AsyncClient, limited: Limited, pool: asyncpg.Pool
) -> None:
    body = referral_body(f"REF-SITE-ELSEWHERE-{uuid.uuid4().hex[:8]}")
    assert body["clinic_site"] == DEMO_SITE
    refused = await limited.api.post("/v1/referrals", json=body)
    problem = assert_problem(refused, 403, "/problems/clinic-site-not-allowed")
    for phi in (body["patient"]["mrn"], body["patient"]["family_name"], body["patient"]["phone"]):
        assert phi not in refused.text
    assert "pathway_id" not in problem
    pathway_id = pathway_id_for(body["source_system"], body["referral_id"])
    assert_problem(await api.get(f"/v1/pathways/{pathway_id}"), 404, "/problems/pathway-not-found")
    assert await pool.fetchval("select count(*) from patients where mrn = $1", body["patient"]["mrn"]) == 0
    # A site that does not exist is refused the same way: the key learns nothing about other sites.
    assert_problem(
        await limited.api.post("/v1/referrals", json=body | {"clinic_site": "no-such-site"}),
        403,
        "/problems/clinic-site-not-allowed",
    )
    assert (
        await limited.api.post("/v1/referrals", json=body | {"clinic_site": limited.site})
    ).status_code == 201


async def test_a_conflicting_referral_does_not_name_another_sites_pathway(
    api: httpx.AsyncClient, limited: Limited
) -> None:
    body = referral_body(f"REF-SITE-SAME-ID-{uuid.uuid4().hex[:8]}")
    assert (await api.post("/v1/referrals", json=body)).status_code == 201  # at the demo clinic
    conflict = await limited.api.post("/v1/referrals", json=body | {"clinic_site": limited.site})
    assert "pathway_id" not in assert_problem(conflict, 409, "/problems/referral-conflict")
    # The same conflict, to a key that reaches the pathway, names it.
    seen = await api.post("/v1/referrals", json=body | {"clinic_site": limited.site})
    assert assert_problem(seen, 409, "/problems/referral-conflict")["pathway_id"]


async def test_another_sites_policy_is_unknown(api: httpx.AsyncClient, limited: Limited) -> None:
    for answer in (
        await limited.api.get(f"/v1/clinics/{DEMO_SITE}/policy"),
        await limited.api.put(f"/v1/clinics/{DEMO_SITE}/policy", json={"relief_threshold": 0.5}),
    ):
        assert_problem(answer, 404, "/problems/clinic-not-found")
    assert (await api.get(f"/v1/clinics/{DEMO_SITE}/policy")).json()["policy"]["relief_threshold"] == 0.8
    assert (await limited.api.get(f"/v1/clinics/{limited.site}/policy")).status_code == 200
    put = await limited.api.put(f"/v1/clinics/{limited.site}/policy", json={"relief_threshold": 0.5})
    assert put.status_code == 200, put.text


async def test_another_sites_patient_is_unknown(api: httpx.AsyncClient, limited: Limited) -> None:
    theirs = (await _start(api, DEMO_SITE, "theirs"))["patient_ref"]
    ours = (await _start(limited.api, limited.site, "ours"))["patient_ref"]
    change = {"phone": "+16025550123"}
    refused = await limited.api.patch(f"/v1/patients/{theirs}", json=change)
    assert_problem(refused, 404, "/problems/patient-not-found")
    assert_problem(
        await limited.api.patch(f"/v1/patients/{uuid.uuid4()}", json=change),
        404,
        "/problems/patient-not-found",
    )
    assert (await limited.api.patch(f"/v1/patients/{ours}", json=change)).status_code == 200


async def test_a_limited_admin_key_cannot_export_the_audit_log(limited: Limited) -> None:
    # The log spans every clinic: its export is for unlimited keys only, and refusing it is not audited away.
    answer = await limited.api.get(
        "/v1/audit", params={"since": "2001-03-01T00:00:00Z", "until": "2001-03-02T00:00:00Z"}
    )
    assert answer.status_code == 403, answer.text
    assert answer.json()["type"] == "/problems/site-limited-key"
