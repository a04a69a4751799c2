"""A step sent with an Idempotency-Key is taken once: a retry returns the step's result, never 409."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from db.api_clients import upsert_client
from db.patients import register_patient
from domain.config import config_for
from domain.identifiers import pathway_id_for
from domain.inputs import PathwayInput
from domain.referral import Referral
from tests.integration.conftest import API_KEY, RecordingProvider
from tests.integration.polling import next_action_is, poll_view
from tests.integration.problems import assert_problem
from tests.integration.walk import RUN_WAIT_SECONDS, start_at_mri, walk_to_relief_check
from tests.referrals import referral_body
from workers.worker import build_worker
from workflows.start import start_pathway

REVIEW = {"facet_swelling": True, "levels": ["L4-L5"], "reviewed_by": "Dr. R"}
EXAM = {"palpation_concordant": True, "levels": ["L4-L5"], "examined_by": "Dr. P"}
OTHER_CLINIC_SYSTEM_KEY = "dvr_integration-key-of-another-clinical-system"


def _key() -> dict[str, str]:
    return {"Idempotency-Key": f"step-{uuid.uuid4()}"}


def _events(view: dict[str, Any], event: str) -> int:
    return sum(1 for entry in view["timeline"] if entry["event"] == event)


def _client(app_settings: Settings, pool: asyncpg.Pool, temporal: Client, key: str) -> httpx.AsyncClient:
    app = create_app(app_settings, pool=pool, temporal=temporal)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://api.test",
        headers={"Authorization": f"Bearer {key}"},
    )


@pytest.fixture
async def other_system(
    api: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client
) -> AsyncIterator[httpx.AsyncClient]:
    """A second upstream system with the clinical scope, calling the same API."""
    await upsert_client(pool, "another-clinical-system", OTHER_CLINIC_SYSTEM_KEY, ("clinical:write",))
    async with _client(Settings(profile="demo"), pool, temporal, OTHER_CLINIC_SYSTEM_KEY) as client:
        yield client


async def test_a_retried_step_returns_its_result_and_is_recorded_once(
    api: httpx.AsyncClient, other_system: httpx.AsyncClient
) -> None:
    pathway_id = await start_at_mri(api, f"REF-STEPKEY-{uuid.uuid4().hex[:8]}")
    key = _key()
    first = await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=REVIEW, headers=key)
    retry = await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=REVIEW, headers=key)
    assert (first.status_code, retry.status_code) == (200, 200), retry.text
    assert first.json()["stage"] == retry.json()["stage"] == "exam"
    assert _events(retry.json(), "mri_reviewed") == 1

    # The key is the client's own: another system sending it records a step of its own (here refused).
    theirs = await other_system.post(f"/v1/pathways/{pathway_id}/mri-review", json=REVIEW, headers=key)
    assert_problem(theirs, 409, "/problems/wrong-stage")


async def test_a_key_belongs_to_one_route(api: httpx.AsyncClient) -> None:
    pathway_id = await start_at_mri(api, f"REF-STEPROUTE-{uuid.uuid4().hex[:8]}")
    key = _key()
    review = await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=REVIEW, headers=key)
    assert review.status_code == 200, review.text
    await poll_view(api, pathway_id, "exam booked", next_action_is("exam"))
    exam = await api.post(f"/v1/pathways/{pathway_id}/exam", json=EXAM, headers=key)
    assert exam.status_code == 200, exam.text
    assert exam.json()["stage"] == "block"


async def test_the_same_key_with_another_body_is_422_and_changes_nothing(api: httpx.AsyncClient) -> None:
    pathway_id = await start_at_mri(api, f"REF-STEPREUSE-{uuid.uuid4().hex[:8]}")
    key = _key()
    first = await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=REVIEW, headers=key)
    assert first.status_code == 200, first.text
    other = await api.post(
        f"/v1/pathways/{pathway_id}/mri-review", json={**REVIEW, "facet_swelling": False}, headers=key
    )
    assert_problem(other, 422, "/problems/idempotency-key-reused")
    view = (await api.get(f"/v1/pathways/{pathway_id}")).json()
    assert (view["stage"], view["criteria"]["mri_facet_swelling"]) == ("exam", True)


async def test_a_refused_step_leaves_its_key_free_for_the_corrected_step(api: httpx.AsyncClient) -> None:
    pathway_id = await start_at_mri(api, f"REF-STEPFREE-{uuid.uuid4().hex[:8]}")
    key = _key()
    early = await api.post(f"/v1/pathways/{pathway_id}/exam", json=EXAM, headers=key)
    assert_problem(early, 409, "/problems/wrong-stage")
    review = await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=REVIEW, headers={**_key()})
    assert review.status_code == 200, review.text
    await poll_view(api, pathway_id, "exam booked", next_action_is("exam"))
    corrected = await api.post(
        f"/v1/pathways/{pathway_id}/exam", json={**EXAM, "examined_by": "Dr. Q"}, headers=key
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["stage"] == "block"


async def test_a_retried_report_that_settled_the_verdict_gets_its_first_answer(
    api: httpx.AsyncClient,
) -> None:
    """The answer to the report that ended the relief check was lost: its retry is not a 409."""
    pathway_id = await walk_to_relief_check(api, f"REF-PAINEND-{uuid.uuid4().hex[:8]}")
    for pain in (1, 0):
        answer = await api.post(
            f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": pain}, headers=_key()
        )
        assert answer.status_code == 200, answer.text
        if pain == 1:
            await asyncio.sleep(RUN_WAIT_SECONDS)  # the two reports make a run
    key = _key()
    last = await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": 7}, headers=key)
    assert last.status_code == 200, last.text
    await poll_view(api, pathway_id, "candidacy", lambda view: view["stage"] == "candidacy")

    retry = await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": 7}, headers=key)
    assert retry.status_code == 200, retry.text
    assert [r["pain"] for r in retry.json()["relief_check"]["reports"]] == [1, 0, 7]
    # Without the key it is a new report, and the diary has closed.
    assert_problem(
        await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": 7}),
        409,
        "/problems/wrong-stage",
    )


async def test_a_retried_pain_report_is_stored_once(api: httpx.AsyncClient) -> None:
    pathway_id = await walk_to_relief_check(api, f"REF-PAINKEY-{uuid.uuid4().hex[:8]}")
    key = _key()
    first = await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": 1}, headers=key)
    retry = await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": 1}, headers=key)
    assert (first.status_code, retry.status_code) == (200, 200), retry.text
    assert [r["pain"] for r in retry.json()["relief_check"]["reports"]] == [1]
    other = await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": 7}, headers=key)
    assert_problem(other, 422, "/problems/idempotency-key-reused")


async def test_a_retried_withdrawal_answers_the_closed_pathway(api: httpx.AsyncClient) -> None:
    pathway_id = await start_at_mri(api, f"REF-WITHDRAWKEY-{uuid.uuid4().hex[:8]}")
    key = _key()
    first = await api.post(f"/v1/pathways/{pathway_id}/withdraw", json={"reason": "moved"}, headers=key)
    retry = await api.post(f"/v1/pathways/{pathway_id}/withdraw", json={"reason": "moved"}, headers=key)
    assert (first.status_code, retry.status_code) == (200, 200), retry.text
    assert (retry.json()["status"], retry.json()["outcome"]) == ("closed", "withdrawn")


async def test_a_step_not_confirmed_in_time_is_503_and_its_retry_returns_the_result(
    api: httpx.AsyncClient, pool: asyncpg.Pool, temporal: Client
) -> None:
    """The pathway runs on a task queue of its own, whose worker is stopped while the step is sent."""
    queue = f"held-{uuid.uuid4().hex[:8]}"
    referral = Referral.model_validate_json(json.dumps(referral_body(f"REF-HELD-{uuid.uuid4().hex[:8]}")))
    patient_ref = (await register_patient(pool, referral.clinic_site, referral.patient)).patient_ref
    pathway_id = pathway_id_for(referral.source_system, referral.referral_id)
    pathway = PathwayInput(
        patient_ref=patient_ref,
        clinic_site=referral.clinic_site,
        clinic_timezone="America/Phoenix",
        patient_timezone=referral.patient.timezone,
        referral=referral.clinical(),
        config=config_for("demo", 0.8),
        webhook_events=True,
    )

    def worker() -> Any:
        return build_worker(
            temporal, pool, provider=RecordingProvider(), staff_address="staff@x.example", task_queue=queue
        )

    async with worker():
        await start_pathway(temporal, pathway_id, pathway, task_queue=queue)
        await poll_view(api, pathway_id, "mri review due", next_action_is("mri_review"))

    impatient = Settings(profile="demo", update_timeout_seconds=1)
    async with _client(impatient, pool, temporal, API_KEY) as hurried:
        key = _key()
        pending = await hurried.post(f"/v1/pathways/{pathway_id}/mri-review", json=REVIEW, headers=key)
        assert_problem(pending, 503, "/problems/step-pending")
        assert pending.headers["Retry-After"] == "2"
        # It may be applied with no retry at all, so the write is audited at once, as not yet confirmed.
        audited_rows = (
            "select action, detail from audit_log where pathway_id = $1 and action = 'mri_review.write'"
            " order by id",
            pathway_id,
        )
        assert [(r["action"], r["detail"]) for r in await pool.fetch(*audited_rows)] == [
            ("mri_review.write", {"confirmed": False, "reviewed_by": REVIEW["reviewed_by"]})
        ]

    async with worker():
        retry = await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=REVIEW, headers=key)
        assert retry.status_code == 200, retry.text
        assert retry.json()["stage"] == "exam"
        assert _events(retry.json(), "mri_reviewed") == 1
        # Audited when it went pending, and once more when a retry confirmed it (and no more after).
        again = await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=REVIEW, headers=key)
        assert again.status_code == 200, again.text
        assert [(r["action"], r["detail"]) for r in await pool.fetch(*audited_rows)] == [
            ("mri_review.write", {"confirmed": False, "reviewed_by": REVIEW["reviewed_by"]}),
            ("mri_review.write", {"reviewed_by": REVIEW["reviewed_by"]}),
        ]
        await temporal.get_workflow_handle(pathway_id).terminate("test over")


async def test_every_step_post_documents_the_idempotency_key(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    steps = [
        operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method == "post" and path.startswith("/v1/pathways/{pathway_id}/")
    ]
    assert len(steps) == 16  # the 15 steps, and the revocation of the pathway's patient links
    for operation in steps:
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, operation["summary"]
