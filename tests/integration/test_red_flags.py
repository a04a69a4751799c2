"""Red flags at the follow-up through the API: urgent messages, attention, and staff's resolve-attention."""

import asyncpg
import httpx

from tests.integration.conftest import ON_CALL_PHONE, READ_ONLY_KEY, STAFF_EMAIL
from tests.integration.polling import poll_view
from tests.integration.problems import assert_problem
from tests.integration.walk import walk_to_follow_up

RESOLUTION = {"reason": "red_flags", "note": "called the patient; seen in ED", "resolved_by": "Nurse Kim"}


async def test_red_flags_wait_for_staff_to_resolve_them(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    pathway_id = await walk_to_follow_up(api, "REF-RED-FLAGS-1")
    url = f"/v1/pathways/{pathway_id}/resolve-attention"
    nothing_open = await api.post(url, json=RESOLUTION)
    assert_problem(nothing_open, 409, "/problems/wrong-stage")

    answer = await api.post(
        f"/v1/pathways/{pathway_id}/follow-up",
        json={"pain": 6, "returned_to_work": False, "red_flags": ["new_weakness"]},
    )
    assert answer.status_code == 200, answer.text
    flagged = await poll_view(api, pathway_id, "red flags raised", lambda v: v["needs_attention"])
    assert (flagged["stage"], flagged["status"]) == ("outcomes", "active")
    assert flagged["attention_reasons"] == ["red_flags"]

    refused = await api.post(url, json=RESOLUTION, headers={"Authorization": f"Bearer {READ_ONLY_KEY}"})
    assert_problem(refused, 403, "/problems/forbidden")
    invalid = await api.post(url, json={**RESOLUTION, "reason": "something else"})
    assert invalid.status_code == 422, invalid.text

    resolved = await api.post(url, json=RESOLUTION, headers={"Idempotency-Key": f"resolve-{pathway_id}"})
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["stage"], resolved.json()["needs_attention"]) == ("outcomes", False)
    # The outcome check-ins run on; the patient withdraws from them, and the pathway completes.
    withdrawn = await api.post(f"/v1/pathways/{pathway_id}/withdraw", json={"reason": "enough messages"})
    assert withdrawn.status_code == 200, withdrawn.text
    final = await poll_view(api, pathway_id, "completed", lambda v: v["status"] == "completed")
    assert (final["stage"], final["outcome"], final["needs_attention"]) == (
        "completed",
        "dvr_completed",
        False,
    )
    assert final["follow_up"]["red_flags"] == ["new_weakness"]
    assert "seen in ED" not in str(final)

    rows = await pool.fetch(
        "select template, recipient, channel, address from outbox where pathway_id = $1", pathway_id
    )
    sent = [r["template"] for r in rows]
    assert "red_flag_advice" in sent and "urgent_red_flags" in sent
    # The urgent message goes to the on-call phone by SMS; routine staff messages stay in the mailbox.
    staff = {
        (r["template"], r["recipient"], r["channel"], r["address"])
        for r in rows
        if r["recipient"] != "patient"
    }
    assert ("urgent_red_flags", "staff_urgent", "sms", ON_CALL_PHONE) in staff
    assert all(address == STAFF_EMAIL for _, recipient, _, address in staff if recipient == "staff")
    audited = await pool.fetchval(
        "select count(*) from audit_log where pathway_id = $1 and action = 'attention.resolve'", pathway_id
    )
    assert audited == 1
    again = await api.post(url, json=RESOLUTION, headers={"Idempotency-Key": f"resolve-{pathway_id}"})
    assert again.status_code == 200, again.text  # a retry with the key answers the step's result
