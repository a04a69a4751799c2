"""Answers from the link page that cannot be recorded: a question that closed while the page was open, a form
sent again with other answers, a form id that belongs to another link. None is taken, none is confirmed as
recorded, and red flags in any of them still reach staff (or the page says they did not), with the advice on
what to do now."""

import asyncio
import re
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
from playwright.async_api import Browser, expect

from db.patient_links import SECRET_PURPOSE, link_for_pathway
from db.signing_secrets import signing_secret
from domain.link_tokens import seal
from tests.integration.message_links import message_link
from tests.integration.polling import next_action_is, poll_view
from tests.integration.walk import start_at_mri, walk_to_follow_up, walk_to_relief_check


def _path(link: str) -> str:
    return "/p/" + link.rsplit("/p/", 1)[1]


async def _form(api: httpx.AsyncClient, path: str) -> dict[str, str]:
    """The hidden fields of the question form the page renders now."""
    page = await api.get(path)
    assert page.status_code == 200, page.text
    answer_id = re.search(r'name="answer_id" value="([^"]+)"', page.text)
    question = re.search(r'name="question" value="([^"]+)"', page.text)
    assert answer_id is not None and question is not None, page.text
    return {"answer_id": answer_id.group(1), "question": question.group(1)}


async def _count(pool: asyncpg.Pool, sql: str, *args: Any) -> int:
    found: int = await pool.fetchval(sql, *args)
    return found


async def _until_count(pool: asyncpg.Pool, sql: str, *args: Any, want: int) -> None:
    """Bounded polling: the messages are written by the worker's activities."""
    for _ in range(200):
        if await _count(pool, sql, *args) >= want:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never {want}: {sql}")


URGENT_TO_STAFF = (
    "select count(*) from outbox where pathway_id = $1 and template = 'urgent_red_flags'"
    " and recipient = 'staff_urgent'"
)
ADVICE_TO_PATIENT = (
    "select count(*) from outbox where pathway_id = $1 and template = 'red_flag_advice'"
    " and recipient = 'patient'"
)
REPORTS_AUDITED = "select count(*) from audit_log where pathway_id = $1 and action = 'red_flags.write'"


async def test_red_flags_sent_as_the_question_closed_still_reach_staff(
    api: httpx.AsyncClient, pool: asyncpg.Pool, browser: Browser, served_api: str
) -> None:
    """The patient has the follow-up open; staff record it from a call; the patient then sends the form with
    red flags. The answer is not taken, but the red flags are: attention, an urgent message, the advice."""
    pathway_id = await walk_to_follow_up(api, f"REF-LATE-FLAGS-{uuid.uuid4().hex[:8]}")
    await poll_view(api, pathway_id, "follow-up open", lambda v: v["follow_up"]["status"] == "open")
    page = await (await browser.new_context()).new_page()
    await page.goto(await message_link(pool, pathway_id, "follow_up_checkin"))
    await page.get_by_role("group", name=re.compile("back pain")).get_by_label("9", exact=True).check()

    staff = await api.post(f"/v1/pathways/{pathway_id}/follow-up", json={"pain": 2, "returned_to_work": True})
    assert staff.status_code == 200, staff.text
    assert staff.json()["needs_attention"] is False

    await page.get_by_label("New weakness in a leg").check()
    await page.get_by_role("button", name="Send my answer").click()
    await expect(page.get_by_text("has closed, so your answer was not recorded")).to_be_visible()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("go to emergency care now")
    await expect(alert).to_contain_text("The clinic has been told.")

    view = await poll_view(api, pathway_id, "red flags raised", lambda v: v["needs_attention"])
    assert view["attention_reasons"] == ["red_flags"]
    assert (view["follow_up"]["pain"], view["follow_up"]["red_flags"]) == (2, [])  # staff's answer stands
    assert any(e["event"] == "red_flags_reported" for e in view["timeline"])
    await _until_count(pool, URGENT_TO_STAFF, pathway_id, want=1)
    await _until_count(pool, ADVICE_TO_PATIENT, pathway_id, want=1)
    assert await _count(pool, REPORTS_AUDITED, pathway_id) == 1


async def test_a_form_sent_again_with_other_answers_is_not_confirmed(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    """The back button and a change of mind: the first answer stands and the page says so; red flags in the
    second are reported all the same, once; the first answers sent again are a harmless repeat."""
    pathway_id = await walk_to_follow_up(api, f"REF-RESEND-{uuid.uuid4().hex[:8]}")
    await poll_view(api, pathway_id, "follow-up open", lambda v: v["follow_up"]["status"] == "open")
    path = _path(await message_link(pool, pathway_id, "follow_up_checkin"))
    form = await _form(api, path)
    first = {**form, "pain": "2", "returned_to_work": "yes"}
    taken = await api.post(path, data=first)
    assert taken.status_code == 303, taken.text
    await poll_view(api, pathway_id, "follow-up answered", lambda v: v["follow_up"]["status"] == "answered")

    other = {**form, "pain": "9", "returned_to_work": "no", "red_flags": ["bladder_or_bowel_change"]}
    for _ in range(2):
        refused = await api.post(path, data=other)
        assert refused.status_code == 409, refused.text
        assert "your first answer is the one recorded" in refused.text
        assert "go to emergency care now" in refused.text and "The clinic has been told." in refused.text
    view = await poll_view(api, pathway_id, "red flags raised", lambda v: v["needs_attention"])
    assert view["attention_reasons"] == ["red_flags"]
    assert (view["follow_up"]["pain"], view["follow_up"]["returned_to_work"]) == (2, True)
    await _until_count(pool, URGENT_TO_STAFF, pathway_id, want=1)
    assert await _count(pool, URGENT_TO_STAFF, pathway_id) == 1  # reported once, for two submits
    assert await _count(pool, REPORTS_AUDITED, pathway_id) == 1
    answers_audited = "select count(*) from audit_log where pathway_id = $1 and action = 'follow_up.write'"
    assert await _count(pool, answers_audited, pathway_id) == 1

    repeat = await api.post(path, data=first)
    assert repeat.status_code == 303 and repeat.headers["location"].endswith(f"?answered={form['answer_id']}")


async def test_a_form_id_of_another_link_records_nothing(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    """A form id is the link's own: the same id sent on another patient's link is refused there, and the
    first link's answer is left as it was."""
    mine, theirs = [
        await walk_to_relief_check(api, f"REF-FORM-ID-{n}-{uuid.uuid4().hex[:8]}") for n in (1, 2)
    ]
    my_path = _path(await message_link(pool, mine, "diary_prompt"))
    their_path = _path(await message_link(pool, theirs, "diary_prompt"))
    form = await _form(api, my_path)
    assert (await api.post(my_path, data={**form, "pain": "4"})).status_code == 303
    await poll_view(api, mine, "report taken", lambda v: len(v["relief_check"]["reports"]) == 1)

    their_question = (await _form(api, their_path))["question"]
    crafted = await api.post(their_path, data={**form, "question": their_question, "pain": "3"})
    assert crafted.status_code == 400, crafted.text
    view = (await api.get(f"/v1/pathways/{theirs}")).json()
    assert view["relief_check"]["reports"] == []
    rows = await pool.fetch(
        "select recorded_at from patient_link_answers where answer_id = $1", uuid.UUID(form["answer_id"])
    )
    assert len(rows) == 1 and rows[0]["recorded_at"] is not None  # the first link's, as it was


async def test_a_change_form_id_of_another_link_asks_nothing(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    """As for answers: a wish to change an appointment, sent with another link's form id, is refused."""
    exams: list[tuple[str, str, str]] = []
    for n in (1, 2):
        pathway_id = await start_at_mri(api, f"REF-CHANGE-ID-{n}-{uuid.uuid4().hex[:8]}")
        review = {"facet_swelling": True, "levels": ["L4-L5"], "reviewed_by": "Dr. R"}
        assert (await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=review)).status_code == 200
        booked = await poll_view(api, pathway_id, "exam booked", next_action_is("exam"))
        link_id, expires = await link_for_pathway(pool, pathway_id, booked["patient_ref"], timedelta(days=1))
        path = f"/p/{seal(await signing_secret(pool, SECRET_PURPOSE), link_id, expires)}"
        exams.append((pathway_id, path, booked["appointments"][0]["appointment_id"]))
    (mine, my_path, my_exam), (theirs, their_path, their_exam) = exams
    answer_id = str(uuid.uuid4())
    asked = await api.post(
        my_path, data={"answer_id": answer_id, "question": f"appointment:{my_exam}", "wish": "reschedule"}
    )
    assert asked.status_code == 303, asked.text

    crafted = {"answer_id": answer_id, "question": f"appointment:{their_exam}", "wish": "cancel"}
    refused = await api.post(their_path, data=crafted)
    assert refused.status_code == 400, refused.text
    assert (await api.get(f"/v1/pathways/{theirs}")).json()["change_requests"] == []
    assert len((await api.get(f"/v1/pathways/{mine}")).json()["change_requests"]) == 1


async def test_red_flags_on_an_ended_pathway_tell_the_patient_to_call(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    """The pathway ended while the form was open: nothing can take the red flags, and the page says the
    clinic was not told, with the advice on what to do now."""
    pathway_id = await walk_to_follow_up(api, f"REF-ENDED-FLAGS-{uuid.uuid4().hex[:8]}")
    await poll_view(api, pathway_id, "follow-up open", lambda v: v["follow_up"]["status"] == "open")
    path = _path(await message_link(pool, pathway_id, "follow_up_checkin"))
    form = await _form(api, path)
    withdrawn = await api.post(f"/v1/pathways/{pathway_id}/withdraw", json={"reason": "moved away"})
    assert withdrawn.status_code == 200, withdrawn.text
    await poll_view(api, pathway_id, "completed", lambda v: v["status"] == "completed")

    late = await api.post(path, data={**form, "pain": "8", "red_flags": ["new_weakness"]})
    assert late.status_code == 409, late.text
    assert "go to emergency care now" in late.text and "this page could not pass it on" in late.text
    assert await _count(pool, URGENT_TO_STAFF, pathway_id) == 0
    assert await _count(pool, REPORTS_AUDITED, pathway_id) == 0
