"""Check-ins after the procedure through the API, on the dev server with the real activities: staff calls at
the follow-up and during the outcome check-ins, transcribed answers, red flags, retries and withdrawal."""

from typing import Any

import asyncpg
import httpx

from tests.integration.polling import poll_view
from tests.integration.problems import assert_problem
from tests.integration.walk import outcome_is_open, start_at_mri, walk_to_follow_up

NOT_REACHED = {"reached": False, "note": "voicemail, left a message", "called_by": "Nurse K"}
REACHED = {
    "reached": True,
    "answers": {"pain": 4, "returned_to_work": False, "red_flags": []},
    "note": "reached at home",
    "called_by": "Nurse K",
}


async def _audited(pool: asyncpg.Pool, pathway_id: str, action: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "select detail from audit_log where pathway_id = $1 and action = $2", pathway_id, action
    )
    return [dict(r) for r in rows]


async def test_staff_calls_and_outcome_check_ins_are_recorded_once_each(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    pathway_id = await walk_to_follow_up(api, "REF-CHECK-INS-1")
    call_url = f"/v1/pathways/{pathway_id}/staff-call"
    outcome_url = f"/v1/pathways/{pathway_id}/outcome-check-ins"

    answers_unreached = await api.post(call_url, json={**NOT_REACHED, "answers": {"pain": 2}})
    assert_problem(answers_unreached, 422, "/problems/invalid-step")
    too_early = await api.post(
        outcome_url,
        json={"check_in": "2_weeks", "pain": 2, "work_status": "off_work", "pgic": 3, "recorded_by": "N"},
    )
    assert_problem(too_early, 409, "/problems/wrong-stage")

    # The follow-up, obtained on a call; the retry with the same key records nothing more.
    headers = {"Idempotency-Key": f"call-{pathway_id}"}
    called = await api.post(call_url, json=REACHED, headers=headers)
    assert called.status_code == 200, called.text
    follow_up = called.json()["follow_up"]
    assert (called.json()["stage"], follow_up["status"], follow_up["pain"]) == ("outcomes", "answered", 4)
    again = await api.post(call_url, json=REACHED, headers=headers)
    assert again.status_code == 200, again.text
    assert len(again.json()["follow_up"]["staff_calls"]) == 1
    # The same key and body on another pathway is refused, not sent to the first pathway.
    other = await start_at_mri(api, "REF-CHECK-INS-2")
    elsewhere = await api.post(f"/v1/pathways/{other}/staff-call", json=REACHED, headers=headers)
    assert_problem(elsewhere, 422, "/problems/idempotency-key-reused")

    # The first outcome check-in: the wrong one is refused; the answers, sent twice, count once.
    await poll_view(api, pathway_id, "2_weeks open", outcome_is_open("2_weeks"))
    wrong = await api.post(
        outcome_url,
        json={"check_in": "6_weeks", "pain": 2, "work_status": "off_work", "pgic": 3, "recorded_by": "N"},
    )
    assert_problem(wrong, 409, "/problems/wrong-stage")
    body = {"check_in": "2_weeks", "pain": 5, "work_status": "off_work", "pgic": 5, "red_flags": ["fever"]}
    body["recorded_by"] = "Nurse K"
    key = {"Idempotency-Key": f"outcome-{pathway_id}"}
    for _ in range(2):
        flagged = await api.post(outcome_url, json=body, headers=key)
        assert flagged.status_code == 200, flagged.text
        assert flagged.json()["outcomes"][0]["status"] == "answered"
        assert flagged.json()["outcomes"][0]["pgic"] == 5
    view = await poll_view(api, pathway_id, "red flags raised", lambda v: v["needs_attention"])
    assert view["attention_reasons"] == ["red_flags"]

    # The next one unanswered: staff call, do not reach the patient, and it stays open for another call.
    await poll_view(api, pathway_id, "6_weeks open", outcome_is_open("6_weeks"))
    not_reached = await api.post(call_url, json=NOT_REACHED)
    assert not_reached.status_code == 200, not_reached.text
    six_weeks = not_reached.json()["outcomes"][1]
    assert [c["reached"] for c in six_weeks["staff_calls"]] == [False]

    # Withdrawn during the outcomes: the check-ins stop, and the pathway completes once the red flags are
    # handled.
    withdrawn = await api.post(f"/v1/pathways/{pathway_id}/withdraw", json={"reason": "moving away"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["status"], withdrawn.json()["attention_reasons"]) == ("active", ["red_flags"])
    resolution = {"reason": "red_flags", "note": "seen by the GP", "resolved_by": "Nurse K"}
    resolved = await api.post(f"/v1/pathways/{pathway_id}/resolve-attention", json=resolution)
    assert resolved.status_code == 200, resolved.text
    final = await poll_view(api, pathway_id, "completed", lambda v: v["status"] == "completed")
    assert final["outcome"] == "dvr_completed"
    assert [o["status"] for o in final["outcomes"]] == ["answered"] + ["stopped"] * 4
    late = await api.post(call_url, json=NOT_REACHED)
    assert_problem(late, 409, "/problems/wrong-stage")

    # Every step taken is audited once with who took it (a keyed step's retry writes no second row); the
    # pathway recorded each step once.
    calls = await _audited(pool, pathway_id, "staff_call.write")
    assert [c["detail"] for c in calls] == [{"called_by": "Nurse K"}] * 2
    transcribed = await _audited(pool, pathway_id, "outcome_check_in.write")
    assert [c["detail"] for c in transcribed] == [{"recorded_by": "Nurse K"}]
    rows = await pool.fetch(
        "select template, recipient from outbox where pathway_id = $1 and template = 'urgent_red_flags'",
        pathway_id,
    )
    assert [(r["template"], r["recipient"]) for r in rows] == [("urgent_red_flags", "staff_urgent")]
