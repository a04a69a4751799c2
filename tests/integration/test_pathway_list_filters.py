"""`GET /v1/pathways` by outcome, block result, overdue next action and start time; the items' patient_ref,
next_action and needs_attention; page tokens under these filters. Every test shares one dev server, so these
assert about this test's own pathways."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from tests.integration.polling import list_all, next_action_is, poll_list, poll_view
from tests.integration.problems import assert_problem
from tests.referrals import referral_body


async def _start(api: httpx.AsyncClient, referral_id: str, **symptoms: bool) -> str:
    created = await api.post("/v1/referrals", json=referral_body(referral_id, **symptoms))
    assert created.status_code == 201, created.text
    pathway_id: str = created.json()["pathway_id"]
    return pathway_id


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


async def test_outcome_block_result_overdue_started_and_items(api: httpx.AsyncClient) -> None:
    run = uuid.uuid4().hex[:8]
    before = datetime.now(UTC) - timedelta(seconds=1)
    open_id = await _start(api, f"REF-FILTER-{run}-open")
    withdrawn_id = await _start(api, f"REF-FILTER-{run}-withdrawn")
    screened_out = await _start(api, f"REF-FILTER-{run}-screened", pain_below_knee=True)
    open_view = await poll_view(api, open_id, "mri review due", next_action_is("mri_review"))
    await poll_view(api, withdrawn_id, "mri review due", next_action_is("mri_review"))
    withdrawn = await api.post(f"/v1/pathways/{withdrawn_id}/withdraw", json={"reason": "moved away"})
    assert withdrawn.status_code == 200, withdrawn.text
    await poll_view(api, screened_out, "screening review due", next_action_is("screening_review"))
    review = {"proceed": False, "reason": "radicular pain", "reviewed_by": "Dr. Lee"}
    reviewed = await api.post(f"/v1/pathways/{screened_out}/screening-review", json=review)
    assert reviewed.status_code == 200, reviewed.text
    after = datetime.now(UTC) + timedelta(seconds=1)
    ours = {open_id, withdrawn_id, screened_out}
    started = {"started_after": _at(before), "started_before": _at(after)}

    # outcome: each outcome lists its own pathway and neither of the others.
    withdrawn_listed = await poll_list(
        api, {"outcome": "withdrawn", **started}, "ours withdrawn", lambda ids: withdrawn_id in ids
    )
    assert withdrawn_listed & ours == {withdrawn_id}
    not_candidate = await poll_list(
        api, {"outcome": "not_candidate", **started}, "ours screened out", lambda ids: screened_out in ids
    )
    assert not_candidate & ours == {screened_out}

    # started_after / started_before: the range holds ours; a range that ended before them holds none.
    in_range = await poll_list(api, started, "ours started", lambda ids: ours <= ids)
    assert ours <= in_range
    earlier = {"started_before": _at(before)}
    assert not ours & {i["pathway_id"] for i in await list_all(api, earlier)}
    later = {"started_after": _at(after)}
    assert not ours & {i["pathway_id"] for i in await list_all(api, later)}
    # The same instant with another offset selects the same pathways.
    phoenix = timezone(timedelta(hours=-7))
    shifted = {
        "started_after": before.astimezone(phoenix).isoformat(),
        "started_before": after.astimezone(phoenix).isoformat(),
    }
    assert ours <= {i["pathway_id"] for i in await list_all(api, shifted)}

    # block_result: none of ours reached a block, so none is listed under any result.
    for result in ("positive", "negative", "prolonged", "indeterminate"):
        listed = {i["pathway_id"] for i in await list_all(api, {"block_result": result, **started})}
        assert not ours & listed, result

    # overdue: the open pathway's MRI review is due later, so it is not overdue; whatever is listed is.
    now = datetime.now(UTC)
    overdue_items = await list_all(api, {"overdue": "true"})
    assert open_id not in {i["pathway_id"] for i in overdue_items}
    for item in overdue_items:
        assert item["next_action"] is not None and item["next_action"]["overdue"] is True, item
        assert datetime.fromisoformat(item["next_action"]["due_at"]) < now, item

    # The items: patient_ref as in the view, next_action's due time, needs_attention.
    items = {i["pathway_id"]: i for i in await list_all(api, started) if i["pathway_id"] in ours}
    item = items[open_id]
    assert item["patient_ref"] == open_view["patient_ref"]
    assert item["needs_attention"] is False
    assert item["next_action"] == {
        "due_at": item["next_action_due"],
        "overdue": False,
    }
    assert datetime.fromisoformat(item["next_action"]["due_at"]) == datetime.fromisoformat(
        open_view["next_action"]["due_at"]
    )
    assert items[withdrawn_id]["next_action"] is None  # an ended pathway waits for nothing
    assert items[withdrawn_id]["patient_ref"] != item["patient_ref"]


async def test_page_tokens_round_trip_with_the_new_filters(api: httpx.AsyncClient) -> None:
    run = uuid.uuid4().hex[:8]
    before = datetime.now(UTC) - timedelta(seconds=1)
    ids = {await _start(api, f"REF-FILTER-PAGES-{run}-{n}") for n in range(3)}
    for pathway_id in ids:
        await poll_view(api, pathway_id, "mri review due", next_action_is("mri_review"))
    params = {"started_after": _at(before), "stage": "mri"}
    await poll_list(api, params, "ours", lambda listed: ids <= listed)

    walked: list[str] = []
    token: str | None = None
    for _ in range(200):
        paging = {"page_size": "1"} | ({"page_token": token} if token else {})
        page = await api.get("/v1/pathways", params={**params, **paging})
        assert page.status_code == 200, page.text
        walked.extend(item["pathway_id"] for item in page.json()["items"])
        token = page.json()["next_page_token"]
        if token is None:
            break
    assert token is None, "the walk never ended"
    assert len(walked) == len(set(walked)), f"a pathway was listed twice: {walked}"
    assert ids <= set(walked)

    # A token issued for one started_after is refused for another.
    one = await api.get("/v1/pathways", params={**params, "page_size": "1"})
    token = one.json()["next_page_token"]
    assert token is not None
    moved = {**params, "started_after": _at(before - timedelta(seconds=1)), "page_token": token}
    assert_problem(await api.get("/v1/pathways", params=moved), 422, "/problems/invalid-page-token")


async def test_filter_values_are_refused_unless_valid(api: httpx.AsyncClient) -> None:
    for params in (
        {"outcome": "finished"},
        {"outcome": "withdrawn' OR 'a'='a"},
        {"block_result": "POSITIVE"},
        {"overdue": "false"},
        {"overdue": "yes"},
        {"started_after": "2026-01-01T00:00:00"},  # no offset
        {"started_before": "yesterday"},
        {"started_after": "0001-01-01T00:00:00+01:00"},  # before the first instant UTC can name
    ):
        response = await api.get("/v1/pathways", params=params)
        assert response.status_code == 422, (params, response.text)


@pytest.mark.parametrize("given", ["0.5", "1764547200", "2026-01-01"])
async def test_a_start_bound_that_is_not_an_rfc_3339_instant_is_refused(
    api: httpx.AsyncClient, given: str
) -> None:
    # A bare number is a Unix time to pydantic; no caller means one, and a date alone has no offset.
    answer = await api.get("/v1/pathways", params={"started_before": given})
    assert answer.status_code == 422, answer.text
