"""The list's own decoding of a visibility page (api/visibility_page.py) gives what the SDK's `list_workflows`
gives for the same query: each pathway's shown search attributes, start and close times, and page order."""

import uuid

import httpx
from temporalio.client import Client

from api.visibility_page import visibility_page
from tests.integration.polling import next_action_is, poll_list, poll_view
from tests.referrals import referral_body
from workflows import search_attributes as sa


async def test_a_page_decodes_as_the_sdk_decodes_it(api: httpx.AsyncClient, temporal: Client) -> None:
    run = uuid.uuid4().hex[:8]
    ids = []
    for n, below_knee in enumerate((False, True)):
        created = await api.post(
            "/v1/referrals", json=referral_body(f"REF-PAGE-{run}-{n}", pain_below_knee=below_knee)
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["pathway_id"])
    await poll_view(api, ids[0], "mri review due", next_action_is("mri_review"))
    await poll_view(api, ids[1], "screening review due", next_action_is("screening_review"))
    review = {"proceed": False, "reason": "radicular pain", "reviewed_by": "Dr. Lee"}
    assert (await api.post(f"/v1/pathways/{ids[1]}/screening-review", json=review)).status_code == 200
    await poll_view(api, ids[1], "closed", lambda v: v["stage"] == "closed")

    # Each listed as it now stands (visibility catches up on its own time), then read both ways.
    await poll_list(api, {"stage": "mri"}, "the open one", lambda listed: ids[0] in listed)
    await poll_list(api, {"stage": "closed"}, "the closed one", lambda listed: ids[1] in listed)
    query = " OR ".join(f"WorkflowId = '{i}'" for i in ids)
    page, next_page = await visibility_page(temporal, query, 50, None)
    sdk = [e async for e in temporal.list_workflows(query)]

    assert next_page is None
    assert [p.pathway_id for p in page] == [e.id for e in sdk]
    for ours, theirs in zip(page, sdk, strict=True):
        assert (ours.started_at, ours.closed_at) == (theirs.start_time, theirs.close_time)
        for key in sa.ALL:
            assert ours.get(key) == theirs.typed_search_attributes.get(key), key.name
    by_id = {p.pathway_id: p for p in page}
    assert by_id[ids[0]].get(sa.NEXT_ACTION_DUE) is not None  # a datetime, decoded
    assert by_id[ids[1]].closed_at is not None
    assert by_id[ids[1]].get(sa.NEEDS_ATTENTION) is False
