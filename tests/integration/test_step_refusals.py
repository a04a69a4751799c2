"""Steps the pathway cannot take are refused with a problem+json answer and change nothing."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.integration.conftest import READ_ONLY_KEY
from tests.integration.problems import assert_problem
from tests.integration.walk import start_at_mri, walk_to_relief_check

UNKNOWN = "pathway-00000000-0000-5000-8000-000000000000"

# A valid body for every step endpoint: only the pathway id can be wrong.
VALID_STEPS: list[tuple[str, dict[str, Any]]] = [
    ("mri-review", {"facet_swelling": True, "reviewed_by": "Dr. R"}),
    ("exam", {"palpation_concordant": True, "examined_by": "Dr. P"}),
    ("screening-review", {"proceed": True, "reason": "reviewed", "reviewed_by": "Dr. R"}),
    (
        "block",
        {
            "anesthetic": "lidocaine",
            "levels": ["L4-L5"],
            "side": "left",
            "baseline_pain": 7,
            "performed_by": "Dr. P",
        },
    ),
    ("pain-reports", {"pain": 3}),
    ("candidacy-decision", {"approved": True, "anesthesia": "twilight", "decided_by": "Dr. S"}),
    ("procedure", {"status": "completed", "performed_by": "Dr. S"}),
    ("follow-up", {"pain": 1, "returned_to_work": True, "red_flags": []}),
    ("staff-call", {"reached": False, "note": "voicemail", "called_by": "Nurse Kim"}),
    (
        "outcome-check-ins",
        {"check_in": "2_weeks", "pain": 2, "work_status": "retired", "pgic": 2, "recorded_by": "Nurse Kim"},
    ),
    ("withdraw", {"reason": "moved away"}),
    ("retry-booking", {"requested_by": "Front desk"}),
    ("resolve-attention", {"reason": "red_flags", "note": "called the patient", "resolved_by": "Nurse Kim"}),
    (f"appointments/{uuid.uuid4()}/status", {"status": "arrived"}),
    (f"appointments/{uuid.uuid4()}/change-request", {"wish": "reschedule", "via": "phone"}),
]


def _unchanged(view: dict[str, Any]) -> dict[str, Any]:
    return {k: view[k] for k in ("stage", "status", "criteria", "relief_check", "appointments", "timeline")}


async def _audited(pool: asyncpg.Pool, pathway_id: str, action: str) -> int:
    count: int = await pool.fetchval(
        "select count(*) from audit_log where pathway_id = $1 and action = $2", pathway_id, action
    )
    return count


@pytest.mark.parametrize(("step", "body"), VALID_STEPS, ids=[s.split("/")[0] for s, _ in VALID_STEPS])
async def test_a_step_on_an_unknown_or_malformed_pathway_id_is_404(
    api: httpx.AsyncClient, step: str, body: dict[str, Any]
) -> None:
    for pathway_id in (UNKNOWN, "not-a-pathway", "pathway-XYZ"):
        response = await api.post(f"/v1/pathways/{pathway_id}/{step}", json=body)
        assert_problem(response, 404, "/problems/pathway-not-found")


async def test_a_step_with_an_invalid_body_is_422_naming_the_fields_not_the_values(
    api: httpx.AsyncClient,
) -> None:
    pathway_id = await start_at_mri(api, f"REF-BADBODY-{uuid.uuid4().hex[:8]}")
    response = await api.post(
        f"/v1/pathways/{pathway_id}/block",
        json={
            "anesthetic": "chloroform-7731",
            "levels": ["L4-L5"],
            "side": "left",
            "baseline_pain": 4711,
            "performed_by": "Dr. P",
        },
    )
    problem = assert_problem(response, 422, "/problems/invalid-request")
    assert {tuple(e["loc"]) for e in problem["errors"]} == {
        ("body", "anesthetic"),
        ("body", "baseline_pain"),
    }
    assert all(set(e) == {"loc", "msg", "type"} for e in problem["errors"])
    assert "chloroform-7731" not in response.text and "4711" not in response.text
    view = (await api.get(f"/v1/pathways/{pathway_id}")).json()
    assert view["stage"] == "mri"


async def test_a_pain_report_outside_the_relief_check_is_409_and_changes_nothing(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    pathway_id = await start_at_mri(api, f"REF-PAIN-409-{uuid.uuid4().hex[:8]}")
    before = (await api.get(f"/v1/pathways/{pathway_id}")).json()
    response = await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": 2})
    problem = assert_problem(response, 409, "/problems/wrong-stage")
    assert problem["detail"] == "pain reports are taken in relief_check, not mri"
    after = (await api.get(f"/v1/pathways/{pathway_id}")).json()
    assert _unchanged(after) == _unchanged(before)
    assert after["relief_check"]["reports"] == []
    assert await _audited(pool, pathway_id, "pain_report.write") == 0


async def test_a_future_pain_report_is_422_and_a_valid_one_joins_the_diary(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    pathway_id = await walk_to_relief_check(api, f"REF-PAIN-422-{uuid.uuid4().hex[:8]}")
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = await api.post(
        f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": 2, "recorded_at": future}
    )
    problem = assert_problem(response, 422, "/problems/invalid-step")
    assert problem["detail"] == "recorded_at is in the future"
    view = (await api.get(f"/v1/pathways/{pathway_id}")).json()
    assert (view["stage"], view["relief_check"]["reports"]) == ("relief_check", [])
    assert await _audited(pool, pathway_id, "pain_report.write") == 0

    at = datetime.now(UTC)
    accepted = await api.post(
        f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": 5, "recorded_at": at.isoformat()}
    )
    assert accepted.status_code == 200, accepted.text
    view = (await api.get(f"/v1/pathways/{pathway_id}")).json()
    reports = [(datetime.fromisoformat(r["at"]), r["pain"]) for r in view["relief_check"]["reports"]]
    assert reports == [(at, 5)]
    assert accepted.json()["relief_check"]["reports"] == view["relief_check"]["reports"]
    assert await _audited(pool, pathway_id, "pain_report.write") == 1


async def test_retry_booking_when_no_booking_waits_for_staff_is_409(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    pathway_id = await start_at_mri(api, f"REF-RETRY-{uuid.uuid4().hex[:8]}")
    before = (await api.get(f"/v1/pathways/{pathway_id}")).json()
    response = await api.post(f"/v1/pathways/{pathway_id}/retry-booking", json={"requested_by": "Front desk"})
    problem = assert_problem(response, 409, "/problems/wrong-stage")
    assert problem["detail"] == "no booking is waiting for staff"
    after = (await api.get(f"/v1/pathways/{pathway_id}")).json()
    assert _unchanged(after) == _unchanged(before)
    assert await _audited(pool, pathway_id, "booking.retry") == 0


async def test_pain_reports_and_follow_ups_are_staff_transcriptions_audited_with_who(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    # Patients answer from their own number or link; the API takes clinic staff's transcriptions.
    pathway_id = await walk_to_relief_check(api, f"REF-TRANSCRIBED-{uuid.uuid4().hex[:8]}")
    url = f"/v1/pathways/{pathway_id}/pain-reports"
    read_only = {"Authorization": f"Bearer {READ_ONLY_KEY}"}
    assert_problem(await api.post(url, json={"pain": 2}, headers=read_only), 403, "/problems/forbidden")
    follow_up = await api.post(f"/v1/pathways/{pathway_id}/follow-up", json={"pain": 2}, headers=read_only)
    assert_problem(follow_up, 403, "/problems/forbidden")
    accepted = await api.post(url, json={"pain": 2, "recorded_by": "Nurse Kim"})
    assert accepted.status_code == 200, accepted.text
    detail = await pool.fetchval(
        "select detail from audit_log where pathway_id = $1 and action = 'pain_report.write'", pathway_id
    )
    assert detail == {"recorded_by": "Nurse Kim"}
