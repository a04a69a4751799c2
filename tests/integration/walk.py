"""Walking a fresh referral along the pathway through the API, as an upstream system would."""

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from domain.config import DEMO
from tests.integration.polling import TRIES, next_action_is, poll_view
from tests.referrals import referral_body

# Between the first two reports of relief, so that they make a run (domain.relief) in the demo profile.
RUN_WAIT_SECONDS = DEMO.relief.min_run_duration.total_seconds() + 0.5


async def start_at_mri(api: httpx.AsyncClient, referral_id: str, *, tries: int = TRIES) -> str:
    """A typical facet-pain referral with a recent MRI: its pathway id, once it waits for the review."""
    created = await api.post("/v1/referrals", json=referral_body(referral_id))
    assert created.status_code == 201, created.text
    pathway_id: str = created.json()["pathway_id"]
    await poll_view(api, pathway_id, "mri review due", next_action_is("mri_review"), tries=tries)
    return pathway_id


async def walk_to_relief_check(api: httpx.AsyncClient, referral_id: str, *, tries: int = TRIES) -> str:
    """MRI review, exam and block recorded; returns the pathway id once the first diary prompt is out."""
    pathway_id = await start_at_mri(api, referral_id, tries=tries)
    await record_steps_to_relief_check(api, pathway_id, tries=tries)
    return pathway_id


BLOCK = {
    "anesthetic": "lidocaine",
    "levels": ["L4-L5"],
    "side": "bilateral",
    "baseline_pain": 8,
    "performed_by": "Dr. P",
}


async def record_steps_to_block(api: httpx.AsyncClient, pathway_id: str, *, tries: int = TRIES) -> None:
    """Records the MRI review and the exam on a pathway waiting for its MRI review; returns once the block
    is booked."""
    steps = [
        ("mri-review", {"facet_swelling": True, "levels": ["L4-L5"], "reviewed_by": "Dr. R"}, "exam"),
        ("exam", {"palpation_concordant": True, "levels": ["L4-L5"], "examined_by": "Dr. P"}, "block"),
    ]
    for step, body, next_stage in steps:
        if step != "mri-review":
            await poll_view(api, pathway_id, f"{step} booked", next_action_is(step), tries=tries)
        answer = await api.post(f"/v1/pathways/{pathway_id}/{step}", json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["stage"] == next_stage
    await poll_view(api, pathway_id, "block booked", next_action_is("block"), tries=tries)


async def record_steps_to_relief_check(
    api: httpx.AsyncClient, pathway_id: str, *, tries: int = TRIES
) -> None:
    """Records the MRI review, the exam and the block on a pathway waiting for its MRI review."""
    await record_steps_to_block(api, pathway_id, tries=tries)
    answer = await api.post(f"/v1/pathways/{pathway_id}/block", json=BLOCK)
    assert answer.status_code == 200, answer.text
    assert answer.json()["stage"] == "relief_check"
    await poll_view(api, pathway_id, "first diary prompt", next_action_is("pain_report"), tries=tries)


async def walk_to_follow_up(
    api: httpx.AsyncClient, referral_id: str, *, tries: int = TRIES, any_verdict: bool = False
) -> str:
    """A positive block, an approval and a completed DVR; returns the pathway id once it is at follow-up.
    With `any_verdict`, a diary a slow stack judged otherwise (its reports arrived later than sent) is
    approved all the same, with the override reason a clinician would give (bench/end_to_end.py)."""
    pathway_id = await walk_to_relief_check(api, referral_id, tries=tries)
    # Near-complete relief at once and again after a run's length, then the usual pain returns: positive.
    for pain, then_wait in ((1, RUN_WAIT_SECONDS), (0, 0.0), (7, 0.0)):
        report = await api.post(f"/v1/pathways/{pathway_id}/pain-reports", json={"pain": pain})
        assert report.status_code == 200, report.text
        await asyncio.sleep(then_wait)
    view = await poll_view(api, pathway_id, "candidacy", lambda v: v["stage"] == "candidacy", tries=tries)
    decision: dict[str, Any] = {
        "approved": True,
        "anesthesia": "twilight",
        "decided_by": "Dr. S",
        "safety_checklist": {
            "anticoagulants_managed": True,
            "no_active_infection": True,
            "allergies_reviewed": True,
            "pregnancy_excluded_or_not_applicable": True,
        },
    }
    procedure: dict[str, Any] = {"status": "completed", "levels_treated": ["L4-L5"], "performed_by": "Dr. S"}
    if any_verdict and view["relief_check"]["result"] != "positive":
        decision["override_reason"] = procedure["override_reason"] = "relief as the patient told it in clinic"
    answer = await api.post(f"/v1/pathways/{pathway_id}/candidacy-decision", json=decision)
    assert answer.status_code == 200, answer.text
    await poll_view(api, pathway_id, "dvr booked", next_action_is("procedure"), tries=tries)
    answer = await api.post(f"/v1/pathways/{pathway_id}/procedure", json=procedure)
    assert answer.status_code == 200 and answer.json()["stage"] == "follow_up", answer.text
    return pathway_id


OUTCOME_CHECK_INS = [name for name, _ in DEMO.outcome_check_ins]


def outcome_is_open(check_in: str) -> Callable[[dict[str, Any]], bool]:
    def check(view: dict[str, Any]) -> bool:
        return any(o["check_in"] == check_in and o["status"] == "open" for o in view["outcomes"])

    return check


async def transcribe_outcome(
    api: httpx.AsyncClient, pathway_id: str, check_in: str, **answers: Any
) -> dict[str, Any]:
    """Waits until the outcome check-in is open, then staff transcribe the patient's answers."""
    await poll_view(api, pathway_id, f"{check_in} open", outcome_is_open(check_in))
    body = {
        "check_in": check_in,
        "pain": 2,
        "work_status": "working_full",
        "pgic": 2,
        "recorded_by": "Nurse K",
    }
    answer = await api.post(f"/v1/pathways/{pathway_id}/outcome-check-ins", json=body | answers)
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view
