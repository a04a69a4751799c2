"""An upstream system following only DESIGN.md §4 takes a referral to `completed` on the real stack."""

import asyncio

import asyncpg
import httpx

from tests.integration.conftest import RecordingProvider
from tests.integration.polling import next_action_is, poll_view
from tests.integration.walk import OUTCOME_CHECK_INS, RUN_WAIT_SECONDS, transcribe_outcome
from tests.referrals import referral_body

CLINICIAN = {"reviewed_by": "Dr. Radiologist"}


async def test_referral_walks_the_whole_pathway_in_demo_profile(
    api: httpx.AsyncClient, pool: asyncpg.Pool, provider: RecordingProvider
) -> None:
    created = await api.post(
        "/v1/referrals", json=referral_body("REF-FULL-1"), headers={"Idempotency-Key": "full-1"}
    )
    assert created.status_code == 201, created.text
    pathway_id = created.json()["pathway_id"]
    assert created.json()["stage"] == "intake"

    await poll_view(api, pathway_id, "mri review due", next_action_is("mri_review"))
    step = await api.post(
        f"/v1/pathways/{pathway_id}/mri-review",
        json={"facet_swelling": True, "levels": ["L4-L5"], "side": "bilateral", **CLINICIAN},
    )
    assert step.status_code == 200 and step.json()["stage"] == "exam"

    await poll_view(api, pathway_id, "exam booked", next_action_is("exam"))
    step = await api.post(
        f"/v1/pathways/{pathway_id}/exam",
        json={"palpation_concordant": True, "levels": ["L4-L5"], "examined_by": "Dr. P"},
    )
    assert step.status_code == 200 and step.json()["stage"] == "block"

    await poll_view(api, pathway_id, "block booked", next_action_is("block"))
    step = await api.post(
        f"/v1/pathways/{pathway_id}/block",
        json={
            "anesthetic": "lidocaine",
            "levels": ["L4-L5"],
            "side": "bilateral",
            "baseline_pain": 8,
            "performed_by": "Dr. P",
        },
    )
    assert step.status_code == 200 and step.json()["stage"] == "relief_check"

    prompt = await poll_view(
        api,
        pathway_id,
        "first diary prompt",
        lambda v: bool(v["relief_check"]["prompts_sent"]),
    )
    assert prompt["next_action"]["action"] == "pain_report"
    assert prompt["next_action"]["actor"] == "patient"
    # Near-complete relief at once and again after a run's length (30 demo min), then the usual pain returns.
    for pain, then_wait in ((1, RUN_WAIT_SECONDS), (0, 0.0), (7, 0.0)):
        report = await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": pain})
        assert report.status_code == 200, report.text
        await asyncio.sleep(then_wait)

    candidacy = await poll_view(api, pathway_id, "candidacy", lambda v: v["stage"] == "candidacy")
    assert candidacy["relief_check"]["result"] == "positive"
    assert candidacy["criteria"] == {
        "typical_facet_pain": True,
        "mri_facet_swelling": True,
        "exam_concordant": True,
        "block_positive": True,
    }
    decision: dict[str, object] = {"approved": True, "anesthesia": "twilight", "decided_by": "Dr. Surgeon"}
    unchecked = await api.post(f"/v1/pathways/{pathway_id}/candidacy-decision", json=decision)
    assert unchecked.status_code == 422, unchecked.text  # approval needs the safety checklist
    checklist = {
        "anticoagulants_managed": True,
        "no_active_infection": True,
        "allergies_reviewed": True,
        "pregnancy_excluded_or_not_applicable": True,
    }
    step = await api.post(
        f"/v1/pathways/{pathway_id}/candidacy-decision", json={**decision, "safety_checklist": checklist}
    )
    assert step.status_code == 200 and step.json()["stage"] == "dvr_scheduled"

    await poll_view(api, pathway_id, "dvr booked", next_action_is("procedure"))
    step = await api.post(
        f"/v1/pathways/{pathway_id}/procedure",
        json={"status": "completed", "levels_treated": ["L4-L5"], "performed_by": "Dr. Surgeon"},
    )
    assert step.status_code == 200 and step.json()["stage"] == "follow_up"

    await poll_view(
        api,
        pathway_id,
        "follow-up check-in",
        lambda v: v["timeline"][-1]["event"] == "follow_up_check_in_sent",
    )
    step = await api.post(
        f"/v1/pathways/{pathway_id}/follow-up", json={"pain": 1, "returned_to_work": True, "red_flags": []}
    )
    assert step.status_code == 200
    assert (step.json()["stage"], step.json()["status"]) == ("outcomes", "active")

    # The outcome check-ins (compressed into a minute in the demo profile), transcribed by staff.
    for number, check_in in enumerate(OUTCOME_CHECK_INS):
        answered = await transcribe_outcome(api, pathway_id, check_in, pain=3 - min(number, 2), pgic=2)
        assert answered["outcomes"][number]["status"] == "answered"
    final = await poll_view(api, pathway_id, "completed", lambda v: v["status"] == "completed")
    assert (final["stage"], final["status"], final["outcome"]) == ("completed", "completed", "dvr_completed")
    assert [(o["check_in"], o["pain"], o["status"]) for o in final["outcomes"]] == [
        (name, 3 - min(n, 2), "answered") for n, name in enumerate(OUTCOME_CHECK_INS)
    ]

    # Every appointment is a real booking in the calendar, and every message a single outbox row.
    booked = await pool.fetch(
        "select kind, status from appointments where pathway_id = $1 order by created_at", pathway_id
    )
    assert [(r["kind"], r["status"]) for r in booked] == [
        ("exam", "booked"),
        ("block", "booked"),
        ("dvr", "booked"),
    ]
    rows = await pool.fetch("select template, status from outbox where pathway_id = $1", pathway_id)
    templates = [r["template"] for r in rows]
    assert templates.count("appointment_booked") == 3
    assert "diary_prompt" in templates and "follow_up_checkin" in templates
    assert templates.count("outcome_check_in") == len(OUTCOME_CHECK_INS)
    assert all(r["status"] == "sent" for r in rows)
    keys = [m.key for m in provider.sent if m.key.startswith(pathway_id)]
    assert len(keys) == len(set(keys)) == len(rows)

    # Operations staff find it by stage (visibility is eventually consistent: poll briefly).
    for _ in range(100):
        listed = (await api.get("/v1/pathways", params={"stage": "completed"})).json()["items"]
        if any(item["pathway_id"] == pathway_id for item in listed):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the completed pathway is not listed under stage=completed")
    item = next(i for i in listed if i["pathway_id"] == pathway_id)
    assert item["outcome"] == "dvr_completed" and item["block_result"] == "positive"
