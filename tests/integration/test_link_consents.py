"""The patient chooses their messages on the link page: in a real headless Chromium they decline the diary
prompts and e-mail, and staff see it in the pathway view; the same form sent again records nothing more; a
tampered or revoked link records nothing."""

import asyncio
import re
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
from playwright.async_api import Browser, expect

from db.patient_links import SECRET_PURPOSE, link_for_pathway, revoke_links
from db.signing_secrets import signing_secret
from domain.link_tokens import seal
from tests.integration.test_patient_page import PHONE, reports
from tests.integration.walk import start_at_mri, walk_to_relief_check

EVERY = ["appointments", "diary", "follow_up", "email"]
LINK = re.compile(r"https?://\S+?/p/[A-Za-z0-9_-]{43}")


async def _decisions(pool: asyncpg.Pool, patient_ref: str) -> list[tuple[str, bool, str]]:
    rows = await pool.fetch(
        "select category, granted, source from patient_consents where patient_ref = $1 order by id",
        patient_ref,
    )
    return [(r["category"], r["granted"], r["source"]) for r in rows]


async def _audited(pool: asyncpg.Pool, pathway_id: str) -> list[tuple[str, dict[str, Any]]]:
    rows = await pool.fetch(
        "select actor, detail from audit_log where pathway_id = $1 and action = 'patient.write'"
        " and detail->>'via' = 'patient_link' order by id",
        pathway_id,
    )
    return [(r["actor"], r["detail"]) for r in rows]


async def _link_at_mri(
    api: httpx.AsyncClient, pool: asyncpg.Pool, served_api: str, referral_id: str
) -> tuple[str, str, str]:
    """(pathway id, patient ref, link) of a fresh patient, the link made as a message would carry it, while
    nothing is open to answer."""
    pathway_id = await start_at_mri(api, referral_id)
    patient_ref = (await api.get(f"/v1/pathways/{pathway_id}")).json()["patient_ref"]
    link_id, expires_at = await link_for_pathway(pool, pathway_id, patient_ref, timedelta(days=1))
    link = f"{served_api}/p/{seal(await signing_secret(pool, SECRET_PURPOSE), link_id, expires_at)}"
    return pathway_id, patient_ref, link


async def _link_in_message(pool: asyncpg.Pool, pathway_id: str, template: str) -> str:
    """The link in the latest `template` message sent on the pathway, as the patient got it (bounded
    polling; read as tests/integration/test_patient_page.py reads it)."""
    for _ in range(200):
        body = await pool.fetchval(
            "select body from outbox where pathway_id = $1 and template = $2 and status = 'sent'"
            " order by sent_at desc limit 1",
            pathway_id,
            template,
        )
        if body is not None:
            found = LINK.search(body)
            assert found, body
            return found.group()
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {template} message was sent")


def _choices_form(html: str) -> dict[str, Any]:
    """The choices form's fields as the page rendered them."""
    form = html[html.index('action="/p/') :]
    form = form[: form.index("</form>")]
    assert "/consents" in form[: form.index(">")]
    [answer_id] = re.findall(r'name="answer_id" value="([0-9a-f-]{36})"', form)
    return {"answer_id": answer_id, "was_granted": re.findall(r'name="was_granted" value="(\w+)"', form)}


async def test_a_patient_declines_diary_prompts_and_email_on_the_page_and_staff_see_it(
    api: httpx.AsyncClient, pool: asyncpg.Pool, browser: Browser, served_api: str
) -> None:
    pathway_id = await walk_to_relief_check(api, "REF-LINK-CONSENTS")
    link = await _link_in_message(pool, pathway_id, "diary_prompt")
    patient_ref = (await api.get(f"/v1/pathways/{pathway_id}")).json()["patient_ref"]
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()

    await page.goto(link)
    section = page.get_by_role("region", name="Messages from the clinic")
    kinds = section.get_by_role("group", name="Which messages do you want from the clinic?")
    for label in (
        "Appointment messages: bookings, reminders and how to prepare",
        "Pain diary prompts after your block",
        "Follow-up and outcome check-ins after your procedure",
    ):
        await expect(kinds.get_by_label(label)).to_be_checked()
    email = section.get_by_role("group", name="How may the clinic reach you?").get_by_label("By e-mail")
    await expect(email).to_be_checked()
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await kinds.get_by_label("Pain diary prompts after your block").uncheck()
    await email.uncheck()
    await section.get_by_role("button", name="Save my choices").click()

    await expect(page.get_by_role("heading", name="Your choices are saved")).to_be_visible()
    assert re.fullmatch(rf"{re.escape(link)}/consents\?saved=[0-9a-f-]{{36}}", page.url)  # POST, then GET
    contact = (await api.get(f"/v1/pathways/{pathway_id}")).json()["contact"]
    assert contact["consents"] == {"appointments": True, "diary": False, "follow_up": True, "email": False}
    assert await _decisions(pool, patient_ref) == [("diary", False, "link"), ("email", False, "link")]
    [(actor, detail)] = await _audited(pool, pathway_id)
    assert (actor, detail["via"], detail["fields"]) == (
        "patient link",
        "patient_link",
        ["consents.diary", "consents.email"],
    )
    assert await reports(api, pathway_id) == []  # a form of its own: the diary question was not answered

    # The page shows the choices as they now stand, and the diary's later prompts are withheld as declined.
    await page.get_by_role("link", name="Back to your page").click()
    await expect(kinds.get_by_label("Pain diary prompts after your block")).not_to_be_checked()
    await expect(email).not_to_be_checked()
    for _ in range(600):  # the demo diary prompts every few seconds; its +24 h check comes after 2 minutes
        declined = await pool.fetchval(
            "select count(*) from outbox where pathway_id = $1 and template = 'diary_prompt'"
            " and status = 'suppressed' and last_error = 'declined'",
            pathway_id,
        )
        if declined:
            break
        await asyncio.sleep(0.1)
    assert declined, "no diary prompt was withheld after the patient declined them"
    await context.close()
    withdrawn = await api.post(f"/v1/pathways/{pathway_id}/withdraw", json={"reason": "test over"})
    assert withdrawn.status_code == 200, withdrawn.text


async def test_the_same_form_sent_twice_records_one_decision_per_category(
    api: httpx.AsyncClient, pool: asyncpg.Pool, served_api: str
) -> None:
    pathway_id, patient_ref, link = await _link_at_mri(api, pool, served_api, "REF-LINK-CONSENTS-TWICE")
    async with httpx.AsyncClient(follow_redirects=False) as patient_phone:
        shown = _choices_form((await patient_phone.get(link)).text)
        assert sorted(shown["was_granted"]) == sorted(EVERY)
        form = shown | {"granted": ["appointments", "follow_up"]}
        sent = await asyncio.gather(*(patient_phone.post(f"{link}/consents", data=form) for _ in range(2)))
        sent.append(await patient_phone.post(f"{link}/consents", data=form))  # back, and send it again
        location = f"{link.removeprefix(served_api)}/consents?saved={form['answer_id']}"
        assert [(r.status_code, r.headers["location"]) for r in sent] == [(303, location)] * 3
        confirmed = await patient_phone.get(f"{served_api}{location}")
        assert confirmed.status_code == 200 and "Your choices are saved" in confirmed.text

        assert await _decisions(pool, patient_ref) == [("diary", False, "link"), ("email", False, "link")]
        assert len(await _audited(pool, pathway_id)) == 1

        # A form rendered afterwards shows the new choices; ticking the diary again records only the diary.
        again = _choices_form((await patient_phone.get(link)).text)
        assert again["answer_id"] != form["answer_id"]
        assert again["was_granted"] == ["appointments", "follow_up"]
        ticked = again | {"granted": ["appointments", "diary", "follow_up"]}
        assert (await patient_phone.post(f"{link}/consents", data=ticked)).status_code == 303
        # A form the page never rendered (a category that does not exist) records nothing.
        unknown = ticked | {"answer_id": str(uuid.uuid4()), "granted": ["sms"]}
        refused = await patient_phone.post(f"{link}/consents", data=unknown)
        assert refused.status_code == 400 and "could not be saved" in refused.text
    assert (await _decisions(pool, patient_ref))[2:] == [("diary", True, "link")]
    assert len(await _audited(pool, pathway_id)) == 2


async def test_a_tampered_or_revoked_link_records_no_choice(
    api: httpx.AsyncClient, pool: asyncpg.Pool, served_api: str
) -> None:
    pathway_id, patient_ref, link = await _link_at_mri(api, pool, served_api, "REF-LINK-CONSENTS-REFUSED")
    token = link.rsplit("/", 1)[1]
    tampered = f"{served_api}/p/{token[:20]}{'B' if token[20] != 'B' else 'C'}{token[21:]}"
    async with httpx.AsyncClient(follow_redirects=False) as patient_phone:
        form = _choices_form((await patient_phone.get(link)).text) | {"granted": []}

        async def refused(url: str, status: int, heading: str) -> None:
            sent = await patient_phone.post(f"{url}/consents", data=form)
            assert sent.status_code == status and heading in sent.text
            assert "<form" not in sent.text and "Ada" not in sent.text
            confirmation = await patient_phone.get(f"{url}/consents?saved={form['answer_id']}")
            assert confirmation.status_code == status

        await refused(tampered, 404, "This link is not valid")
        await refused(f"{served_api}/p/not-a-token", 404, "This link is not valid")
        assert await revoke_links(pool, pathway_id) == 1
        await refused(link, 410, "This link is no longer valid")

    assert await _decisions(pool, patient_ref) == []
    assert await _audited(pool, pathway_id) == []
    claimed = await pool.fetchval(
        "select count(*) from patient_link_answers where answer_id = $1", uuid.UUID(form["answer_id"])
    )
    assert claimed == 0
