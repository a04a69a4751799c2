"""Staff revoke a pathway's patient links (a lost or shared phone) through the API, against the dev server and
embedded PostgreSQL: the old link's page says it no longer works and takes no answer, a retry with the same
Idempotency-Key answers the same and revokes nothing more, an unknown pathway is 404 and a key without
`staff:write` 403, and the next message that asks for an answer carries a new link that works."""

import asyncio
import re
import uuid

import asyncpg
import httpx

from tests.integration.conftest import READ_ONLY_KEY
from tests.integration.message_links import first_link_made_after, message_link, new_link
from tests.integration.polling import poll_view
from tests.integration.problems import assert_problem
from tests.integration.walk import start_at_mri, walk_to_relief_check

STAFF = {"requested_by": "Front desk"}
DIARY_QUESTION = "How is your usual back pain right now"


def revoke_url(pathway_id: str) -> str:
    return f"/v1/pathways/{pathway_id}/revoke-links"


def diary_form(page: str, pain: int) -> dict[str, str]:
    """The diary question's form as the page rendered it, answered with `pain`."""
    found = re.search(r'name="answer_id" value="([0-9a-f-]{36})">\s*<input [^>]*value="diary:1"', page)
    assert found, page
    return {"answer_id": found.group(1), "question": "diary:1", "pain": str(pain)}


async def test_a_revoked_link_says_it_no_longer_works_and_an_answer_through_it_records_nothing(
    api: httpx.AsyncClient, pool: asyncpg.Pool, served_api: str
) -> None:
    pathway_id = await walk_to_relief_check(api, "REF-REVOKE-PAGE")
    link = await message_link(pool, pathway_id, "diary_prompt")
    async with httpx.AsyncClient(follow_redirects=False) as phone:
        before = await phone.get(link)
        assert before.status_code == 200 and DIARY_QUESTION in before.text  # it would take an answer
        form = diary_form(before.text, 4)

        revoked = await api.post(revoke_url(pathway_id), json=STAFF)
        assert revoked.status_code == 200, revoked.text
        assert revoked.json() == {"pathway_id": pathway_id, "links_revoked": 1}

        page = await phone.get(link)
        assert page.status_code == 410
        assert "This link is no longer valid" in page.text and "Este enlace ya no es válido" in page.text
        assert "<form" not in page.text and "Ada" not in page.text and pathway_id not in page.text
        sent = await phone.post(link, data=form)
        assert sent.status_code == 410
        assert "This link is no longer valid" in sent.text
        # The page's other form, the choice of messages, records nothing either.
        choices = {"answer_id": str(uuid.uuid4()), "was_granted": "diary"}  # the diary unticked
        assert (await phone.post(f"{link}/consents", data=choices)).status_code == 410

    view = (await api.get(f"/v1/pathways/{pathway_id}")).json()
    assert view["relief_check"]["reports"] == []
    assert view["contact"]["consents"]["diary"] is True
    claimed = await pool.fetchval(
        "select count(*) from patient_link_answers where answer_id = any($1::uuid[])",
        [form["answer_id"], choices["answer_id"]],
    )
    assert claimed == 0
    audited = await pool.fetch(
        "select actor, patient_ref::text, detail from audit_log"
        " where pathway_id = $1 and action = 'patient_links.revoke'",
        pathway_id,
    )
    assert [(r["actor"], r["patient_ref"], r["detail"]) for r in audited] == [
        ("integration", view["patient_ref"], {"links_revoked": 1, "requested_by": "Front desk"})
    ]


async def test_a_retry_with_the_same_idempotency_key_answers_the_same_and_revokes_nothing_more(
    api: httpx.AsyncClient, pool: asyncpg.Pool, served_api: str
) -> None:
    pathway_id = await start_at_mri(api, "REF-REVOKE-RETRY")
    patient_ref = (await api.get(f"/v1/pathways/{pathway_id}")).json()["patient_ref"]
    first_link = await new_link(pool, served_api, pathway_id, patient_ref)
    key = {"Idempotency-Key": f"revoke-{uuid.uuid4()}"}

    first = await api.post(revoke_url(pathway_id), json=STAFF, headers=key)
    assert first.status_code == 200, first.text
    assert first.json() == {"pathway_id": pathway_id, "links_revoked": 1}
    # A message since carries a new link; the retry must leave it working.
    second_link = await new_link(pool, served_api, pathway_id, patient_ref)
    assert second_link != first_link

    retry = await api.post(revoke_url(pathway_id), json=STAFF, headers=key)
    assert (retry.status_code, retry.json()) == (200, first.json())
    async with httpx.AsyncClient() as phone:
        assert (await phone.get(second_link)).status_code == 200
        assert (await phone.get(first_link)).status_code == 410
    audited = await pool.fetchval(
        "select count(*) from audit_log where pathway_id = $1 and action = 'patient_links.revoke'", pathway_id
    )
    assert audited == 1

    other_body = await api.post(revoke_url(pathway_id), json={"requested_by": "Nurse Kim"}, headers=key)
    assert_problem(other_body, 422, "/problems/idempotency-key-reused")
    # Sent together, two requests with a new key revoke the new link once and answer alike.
    again = {"Idempotency-Key": f"revoke-{uuid.uuid4()}"}
    both = await asyncio.gather(*(api.post(revoke_url(pathway_id), json=STAFF, headers=again) for _ in "ab"))
    assert [(r.status_code, r.json()["links_revoked"]) for r in both] == [(200, 1), (200, 1)]
    async with httpx.AsyncClient() as phone:
        assert (await phone.get(second_link)).status_code == 410


async def test_an_unknown_pathway_is_404_problem_json(api: httpx.AsyncClient) -> None:
    never_started = await api.post(revoke_url(f"pathway-{uuid.uuid4()}"), json=STAFF)
    assert_problem(never_started, 404, "/problems/pathway-not-found")
    malformed = await api.post(revoke_url("pathway-not-an-id"), json=STAFF)
    assert_problem(malformed, 404, "/problems/pathway-not-found")


async def test_a_key_without_staff_write_is_403_and_revokes_nothing(
    api: httpx.AsyncClient, pool: asyncpg.Pool, served_api: str
) -> None:
    pathway_id = await start_at_mri(api, "REF-REVOKE-SCOPE")
    patient_ref = (await api.get(f"/v1/pathways/{pathway_id}")).json()["patient_ref"]
    link = await new_link(pool, served_api, pathway_id, patient_ref)

    refused = await api.post(
        revoke_url(pathway_id), json=STAFF, headers={"Authorization": f"Bearer {READ_ONLY_KEY}"}
    )
    assert_problem(refused, 403, "/problems/forbidden")
    async with httpx.AsyncClient() as phone:
        assert (await phone.get(link)).status_code == 200
    revoked = await pool.fetchval(
        "select count(*) from patient_links where pathway_id = $1 and revoked_at is not null", pathway_id
    )
    assert revoked == 0


async def test_the_next_message_after_a_revocation_carries_a_new_link_that_works(
    api: httpx.AsyncClient, pool: asyncpg.Pool, served_api: str
) -> None:
    pathway_id = await walk_to_relief_check(api, "REF-REVOKE-NEXT")
    old_link = await message_link(pool, pathway_id, "diary_prompt")
    revoked = await api.post(revoke_url(pathway_id), json=STAFF)
    assert revoked.status_code == 200, revoked.text
    revoked_by = await pool.fetchval("select clock_timestamp()")

    # The diary's next prompt or nudge, rendered after the revocation was committed.
    link = await first_link_made_after(pool, pathway_id, revoked_by)
    assert link != old_link
    async with httpx.AsyncClient(follow_redirects=False) as phone:
        page = await phone.get(link)
        assert page.status_code == 200 and DIARY_QUESTION in page.text
        sent = await phone.post(link, data=diary_form(page.text, 3))
        assert sent.status_code == 303, sent.text
    view = await poll_view(api, pathway_id, "report taken", lambda v: len(v["relief_check"]["reports"]) == 1)
    assert view["relief_check"]["reports"][0]["pain"] == 3
