"""A patient's wish to move or cancel an appointment, recorded by staff through the API."""

import httpx

from tests.integration.polling import next_action_is, poll_view
from tests.integration.problems import assert_problem
from tests.integration.walk import start_at_mri


async def test_a_change_request_reaches_staff_and_keeps_the_appointment(api: httpx.AsyncClient) -> None:
    pathway_id = await start_at_mri(api, "REF-CHANGE-REQUEST-1")
    review = {"facet_swelling": True, "levels": ["L4-L5"], "reviewed_by": "Dr. R"}
    assert (await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=review)).status_code == 200
    booked = await poll_view(api, pathway_id, "exam booked", next_action_is("exam"))
    [exam] = booked["appointments"]
    url = f"/v1/pathways/{pathway_id}/appointments/{exam['appointment_id']}/change-request"

    asked = await api.post(url, json={"wish": "cancel", "via": "phone"})
    assert asked.status_code == 200, asked.text
    view = asked.json()
    assert (view["attention_reasons"], view["appointments"][0]["status"]) == (
        ["reschedule_requested"],
        "booked",
    )
    assert [(r["wish"], r["via"]) for r in view["change_requests"]] == [("cancel", "phone")]
    assert_problem(await api.post(url, json={"wish": "cancel"}), 409, "/problems/wrong-stage")

    resolution = {
        "reason": "reschedule_requested",
        "note": "kept: the patient changed their mind",
        "resolved_by": "Desk",
    }
    resolved = await api.post(f"/v1/pathways/{pathway_id}/resolve-attention", json=resolution)
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["needs_attention"], resolved.json()["change_requests"]) == (False, [])
