"""`GET /v1/pathways`: the filters select by the pathways' search attributes, and the page token walks a
listing once. Every test shares one dev server, so these assert about this test's own pathways."""

import uuid

import httpx

from tests.integration.polling import list_all, next_action_is, poll_list, poll_view
from tests.referrals import referral_body


async def _start(api: httpx.AsyncClient, referral_id: str, **symptoms: bool) -> str:
    created = await api.post("/v1/referrals", json=referral_body(referral_id, **symptoms))
    assert created.status_code == 201, created.text
    pathway_id: str = created.json()["pathway_id"]
    return pathway_id


async def test_filters_and_page_tokens(api: httpx.AsyncClient) -> None:
    run = uuid.uuid4().hex[:8]
    open_ids = {await _start(api, f"REF-LIST-{run}-open-{n}") for n in range(2)}
    closed_ids = {await _start(api, f"REF-LIST-{run}-closed-{n}", pain_below_knee=True) for n in range(3)}
    for pathway_id in open_ids:
        await poll_view(api, pathway_id, "mri review due", next_action_is("mri_review"))
    for pathway_id in closed_ids:  # a failed screen waits for a clinician, who closes it
        await poll_view(api, pathway_id, "screening review due", next_action_is("screening_review"))
        review = {"proceed": False, "reason": "radicular pain", "reviewed_by": "Dr. Lee"}
        reviewed = await api.post(f"/v1/pathways/{pathway_id}/screening-review", json=review)
        assert reviewed.status_code == 200, reviewed.text
        view = await poll_view(api, pathway_id, "closed", lambda v: v["stage"] == "closed")
        assert view["outcome"] == "not_candidate"
        assert view["screening"]["reviewed_by"] == "Dr. Lee"
    ours = open_ids | closed_ids

    closed = await poll_list(
        api, {"stage": "closed"}, "ours closed", lambda ids: closed_ids <= ids and not open_ids & ids
    )
    assert not open_ids & closed
    at_mri = await poll_list(
        api, {"stage": "mri"}, "ours at mri", lambda ids: open_ids <= ids and not closed_ids & ids
    )
    assert not closed_ids & at_mri
    await poll_list(api, {"needs_attention": "false"}, "ours without attention", lambda ids: ours <= ids)
    calm_and_closed = await poll_list(
        api,
        {"needs_attention": "false", "stage": "closed"},
        "ours closed without attention",
        lambda ids: closed_ids <= ids,
    )
    assert not open_ids & calm_and_closed
    assert not ours & {i["pathway_id"] for i in await list_all(api, {"needs_attention": "true"})}
    await poll_list(api, {"clinic_site": "phoenix-main"}, "ours at phoenix-main", lambda ids: ours <= ids)

    elsewhere = await api.get("/v1/pathways", params={"clinic_site": "tucson-east"})
    assert elsewhere.status_code == 200, elsewhere.text
    assert elsewhere.json() == {"items": [], "next_page_token": None}

    listed = await list_all(api, {"stage": "closed"})
    summary = next(i for i in listed if i["pathway_id"] in closed_ids)
    assert (summary["stage"], summary["outcome"], summary["clinic_site"]) == (
        "closed",
        "not_candidate",
        "phoenix-main",
    )

    # One pathway a page, following next_page_token: every closed pathway once, then no token.
    walked: list[str] = []
    token: str | None = None
    for _ in range(len(listed) + 50):
        params = {"stage": "closed", "page_size": "1"} | ({"page_token": token} if token else {})
        page = await api.get("/v1/pathways", params=params)
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) <= 1
        walked.extend(item["pathway_id"] for item in page.json()["items"])
        token = page.json()["next_page_token"]
        if token is None:
            break
    assert token is None, "the walk never ended"
    assert len(walked) == len(set(walked)), f"a pathway was listed twice: {walked}"
    assert closed_ids <= set(walked)
    assert not open_ids & set(walked)
    assert {i["pathway_id"] for i in listed} <= set(walked)
