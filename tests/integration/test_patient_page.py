"""The patient plays their part in a real headless Chromium: from the demo outbox they open the link in a
diary prompt, answer on the page, and the relief check takes it; later they answer the follow-up and an
outcome check-in there, in Spanish. Waiting for an exam, they ask the clinic to move it. A tampered, expired
or revoked link shows a plain page and changes nothing; the outbox page asks for the bootstrap key first,
and exists only in the demo profile."""

import asyncio
import re
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
from playwright.async_api import Browser, Page, ViewportSize, expect
from temporalio.client import Client

from api.app import create_app
from config.settings import Settings
from db.api_clients import ALL_SCOPES, upsert_client
from db.bootstrap import BOOTSTRAP_CLIENT
from db.patient_links import SECRET_PURPOSE, link_for_pathway, revoke_links
from db.signing_secrets import signing_secret
from domain.link_tokens import seal
from tests.integration.message_links import message_link
from tests.integration.polling import next_action_is, poll_view
from tests.integration.walk import outcome_is_open, start_at_mri, walk_to_follow_up, walk_to_relief_check

BOOTSTRAP_KEY = "dvr_integration-bootstrap-key-for-the-demo-outbox"
PHONE = ViewportSize(width=390, height=844)


async def sign_in_to_outbox(page: Page, served_api: str, key: str = BOOTSTRAP_KEY) -> None:
    await page.goto(f"{served_api}/demo/outbox")
    await page.get_by_label("Bootstrap API key").fill(key)
    await page.get_by_role("button", name="Show the outbox").click()


async def reports(api: httpx.AsyncClient, pathway_id: str) -> list[dict[str, Any]]:
    view = (await api.get(f"/v1/pathways/{pathway_id}")).json()
    found: list[dict[str, Any]] = view["relief_check"]["reports"]
    return found


async def test_a_patient_answers_a_diary_prompt_from_the_demo_outbox(
    api: httpx.AsyncClient, pool: asyncpg.Pool, browser: Browser, served_api: str
) -> None:
    await upsert_client(pool, BOOTSTRAP_CLIENT, BOOTSTRAP_KEY, ALL_SCOPES)
    pathway_id = await walk_to_relief_check(api, "REF-LINK-DIARY")
    link = await message_link(pool, pathway_id, "diary_prompt")
    assert link.startswith(f"{served_api}/p/")

    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await sign_in_to_outbox(page, served_api)
    assert page.url == f"{served_api}/demo/outbox"  # the key went in the form's body, never the address
    patient = page.get_by_role("region", name=re.compile(pathway_id))
    prompt = patient.locator("tr[data-template=diary_prompt]").first
    await expect(prompt).to_contain_text("Hello Ada")
    await prompt.get_by_role("link").click()

    # The page a phone shows: the question in a fieldset, a label on every choice, large enough to tap.
    await expect(page).to_have_url(link)
    assert await page.get_attribute("html", "lang") == "en"
    question = page.get_by_role("group", name=re.compile("How is your usual back pain right now"))
    await expect(question).to_be_visible()
    box = await question.get_by_label("3", exact=True).locator("xpath=..").bounding_box()
    assert box is not None and box["height"] >= 44
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await question.get_by_label("3", exact=True).check()
    await page.get_by_role("button", name="Send my answer").click()

    await expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert "?answered=" in page.url  # POST, then redirect to GET: a reload sends nothing again
    view = await poll_view(api, pathway_id, "report taken", lambda v: len(v["relief_check"]["reports"]) == 1)
    assert view["relief_check"]["reports"][0]["pain"] == 3
    await page.reload()
    await expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert len(await reports(api, pathway_id)) == 1

    # The same form sent twice at once (a double tap) is recorded once.
    await page.goto(link)
    # (The question's form: in the demo the block's slot is still to come, so its change form shows too.)
    diary_form = page.locator("form:has(input[name=question][value='diary:1'])")
    answer_id = await diary_form.locator("input[name=answer_id]").get_attribute("value")
    form = {"answer_id": answer_id or "", "question": "diary:1", "pain": "2"}
    async with httpx.AsyncClient(follow_redirects=False) as patient_phone:
        both = await asyncio.gather(*(patient_phone.post(link, data=form) for _ in range(2)))
    assert [r.status_code for r in both] == [303, 303]
    assert {r.headers["location"] for r in both} == {f"{link.removeprefix(served_api)}?answered={answer_id}"}
    assert [r["pain"] for r in await reports(api, pathway_id)] == [3, 2]

    audited = await pool.fetch(
        "select actor, detail from audit_log where pathway_id = $1 and action = 'pain_report.write'",
        pathway_id,
    )
    assert [(row["actor"], row["detail"]["via"]) for row in audited] == [("patient link", "patient_link")] * 2
    await context.close()


async def test_a_patient_answers_the_follow_up_and_an_outcome_check_in_in_spanish(
    api: httpx.AsyncClient, pool: asyncpg.Pool, browser: Browser, served_api: str
) -> None:
    pathway_id = await walk_to_follow_up(api, "REF-LINK-FOLLOW-UP")
    patient_ref = (await api.get(f"/v1/pathways/{pathway_id}")).json()["patient_ref"]
    changed = await api.patch(f"/v1/patients/{patient_ref}", json={"preferred_language": "es"})
    assert changed.status_code == 200, changed.text
    await poll_view(api, pathway_id, "follow-up open", lambda v: v["follow_up"]["status"] == "open")
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()

    await page.goto(await message_link(pool, pathway_id, "follow_up_checkin"))
    assert await page.get_attribute("html", "lang") == "es"
    await (
        page.get_by_role("group", name=re.compile("dolor de espalda hoy"))
        .get_by_label("2", exact=True)
        .check()
    )
    await page.get_by_role("group", name="¿Ha vuelto al trabajo?").get_by_label("Sí").check()
    await page.get_by_role("button", name="Enviar mi respuesta").click()
    await expect(page.get_by_role("heading", name="Gracias")).to_be_visible()
    view = await poll_view(api, pathway_id, "follow-up answered", lambda v: v["stage"] == "outcomes")
    assert (view["follow_up"]["pain"], view["follow_up"]["returned_to_work"]) == (2, True)
    assert view["follow_up"]["red_flags"] == []

    await poll_view(api, pathway_id, "2 weeks open", outcome_is_open("2_weeks"))
    await page.goto(await message_link(pool, pathway_id, "outcome_check_in"))
    await expect(page.get_by_text("Su seguimiento de 2 semanas.")).to_be_visible()
    await (
        page.get_by_role("group", name=re.compile("dolor de espalda habitual"))
        .get_by_label("1", exact=True)
        .check()
    )
    await page.get_by_label("Trabajando, tareas completas").check()
    await page.get_by_label("2: Mucho mejor").check()
    await page.get_by_label("Fiebre").check()
    await page.get_by_role("button", name="Enviar mi respuesta").click()
    await expect(page.get_by_role("heading", name="Gracias")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("urgencias")  # what to do about a red flag
    view = await poll_view(
        api, pathway_id, "2 weeks answered", lambda v: v["outcomes"][0]["status"] == "answered"
    )
    first = view["outcomes"][0]
    assert (first["pain"], first["work_status"], first["pgic"], first["red_flags"]) == (
        1,
        "working_full",
        2,
        ["fever"],
    )
    assert first["recorded_by"] == "patient link"
    await context.close()


async def test_a_patient_asks_to_move_their_exam_from_the_page(
    api: httpx.AsyncClient, pool: asyncpg.Pool, browser: Browser, served_api: str
) -> None:
    pathway_id = await start_at_mri(api, "REF-LINK-CHANGE")
    review = {"facet_swelling": True, "levels": ["L4-L5"], "reviewed_by": "Dr. R"}
    assert (await api.post(f"/v1/pathways/{pathway_id}/mri-review", json=review)).status_code == 200
    booked = await poll_view(api, pathway_id, "exam booked", next_action_is("exam"))
    [exam] = booked["appointments"]
    link_id, expires_at = await link_for_pathway(pool, pathway_id, booked["patient_ref"], timedelta(days=1))
    link = f"{served_api}/p/{seal(await signing_secret(pool, SECRET_PURPOSE), link_id, expires_at)}"
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()

    await page.goto(link)
    await expect(page.get_by_role("heading", name="Nothing to answer now")).to_be_visible()
    section = page.get_by_role("region", name="Need to change your appointment?")
    await expect(section).to_contain_text(
        re.compile(r"Your physical exam is on \w{3} \d{2} \w{3} \d{2}:\d{2} ")
    )
    answer_id = await section.locator("input[name=answer_id]").get_attribute("value")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await section.get_by_role("button", name="Ask to reschedule").click()

    await expect(page.get_by_role("heading", name="Your request was sent")).to_be_visible()
    await expect(
        page.get_by_text("The clinic will call you; your appointment stays booked until then.")
    ).to_be_visible()
    assert page.url == f"{link}?answered={answer_id}"  # POST, then redirect to GET
    view = (await api.get(f"/v1/pathways/{pathway_id}")).json()
    assert (view["needs_attention"], view["attention_reasons"]) == (True, ["reschedule_requested"])
    asked = [(exam["appointment_id"], "reschedule", "link")]
    assert [(r["appointment_id"], r["wish"], r["via"]) for r in view["change_requests"]] == asked
    assert view["appointments"][0]["status"] == "booked"  # it stays until staff act

    # The same form sent again, twice at once, records nothing more; another form for the same appointment
    # (a page left open in a second tab) is told the clinic knows already.
    form = {
        "answer_id": answer_id or "",
        "question": f"appointment:{exam['appointment_id']}",
        "wish": "cancel",
    }
    other = form | {"answer_id": str(uuid.uuid4())}
    async with httpx.AsyncClient(follow_redirects=False) as patient_phone:
        sent = await asyncio.gather(*(patient_phone.post(link, data=f) for f in (form, form, other)))
    assert [r.status_code for r in sent] == [303, 303, 303]
    assert sent[0].headers["location"] == f"{link.removeprefix(served_api)}?answered={answer_id}"
    view = (await api.get(f"/v1/pathways/{pathway_id}")).json()
    assert [(r["appointment_id"], r["wish"], r["via"]) for r in view["change_requests"]] == asked
    audited = await pool.fetch(
        "select actor, detail from audit_log where pathway_id = $1 and action = 'appointment.change_request'",
        pathway_id,
    )
    assert [(row["actor"], row["detail"]["via"], row["detail"]["wish"]) for row in audited] == [
        ("patient link", "patient_link", "reschedule")
    ]

    # A form naming no appointment of this pathway, or no wish, changes nothing and shows the page again.
    unknown = {"answer_id": str(uuid.uuid4()), "question": "appointment:not-this-one", "wish": "cancel"}
    no_wish = {"answer_id": str(uuid.uuid4()), "question": f"appointment:{exam['appointment_id']}"}
    async with httpx.AsyncClient(follow_redirects=False) as patient_phone:
        refused = await patient_phone.post(link, data=unknown)
        assert refused.status_code == 409 and "can no longer be changed" in refused.text
        assert (await patient_phone.post(link, data=no_wish)).status_code == 400
    claimed = await pool.fetchval(
        "select count(*) from patient_link_answers where answer_id = any($1::uuid[])",
        [unknown["answer_id"], no_wish["answer_id"]],
    )
    assert claimed == 0

    await page.get_by_role("link", name="Back to your page").click()
    await expect(section).to_contain_text("You have asked the clinic to change this appointment.")
    assert await section.get_by_role("button").count() == 0
    await context.close()


async def test_a_tampered_expired_or_revoked_link_shows_a_plain_page_and_changes_nothing(
    api: httpx.AsyncClient, pool: asyncpg.Pool, browser: Browser, served_api: str
) -> None:
    pathway_id = await walk_to_relief_check(api, "REF-LINK-REFUSED")
    link = await message_link(pool, pathway_id, "diary_prompt")
    token = link.rsplit("/", 1)[1]
    tampered = f"{served_api}/p/{token[:20]}{'B' if token[20] != 'B' else 'C'}{token[21:]}"
    secret = await signing_secret(pool, SECRET_PURPOSE)
    expired_id = uuid.uuid4()
    expired_at = await pool.fetchval(
        "insert into patient_links (link_id, pathway_id, patient_ref, expires_at)"
        " select $1, $2, patient_ref, date_trunc('second', now()) - interval '1 minute'"
        " from patient_links where pathway_id = $2 limit 1 returning expires_at",
        expired_id,
        pathway_id,
    )
    expired = f"{served_api}/p/{seal(secret, expired_id, expired_at)}"
    page = await browser.new_page()

    async def refused(url: str, status: int, heading: str) -> None:
        shown = await page.goto(url)
        assert shown is not None and shown.status == status
        await expect(page.get_by_role("heading", name=heading)).to_be_visible()
        assert await page.locator("form").count() == 0
        content = await page.content()
        assert "Ada" not in content and pathway_id not in content  # nothing about whose link it was
        form: dict[str, str | float | bool] = {
            "answer_id": str(uuid.uuid4()),
            "question": "diary:1",
            "pain": 4,
        }
        sent = await page.request.post(url, form=form, max_redirects=0)
        assert sent.status == status

    await refused(tampered, 404, "This link is not valid")
    await refused(f"{served_api}/p/not-a-token", 404, "This link is not valid")
    await refused(expired, 410, "This link is no longer valid")
    assert await reports(api, pathway_id) == []

    shown = await page.goto(link)  # the real link still opens
    assert shown is not None and shown.status == 200
    assert await revoke_links(pool, pathway_id) == 2  # the real link, and the expired one made above
    await refused(link, 410, "This link is no longer valid")
    await expect(page.get_by_role("heading", name="Este enlace ya no es válido")).to_be_visible()
    assert await reports(api, pathway_id) == []


async def test_the_demo_outbox_asks_for_the_bootstrap_key_first(
    pool: asyncpg.Pool, temporal: Client, browser: Browser, served_api: str
) -> None:
    await upsert_client(pool, BOOTSTRAP_CLIENT, BOOTSTRAP_KEY, ALL_SCOPES)
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in_to_outbox(page, served_api, key="dvr_integration-key-with-every-scope")  # not bootstrap's
    await expect(page.get_by_role("alert")).to_have_text("That is not the bootstrap key.")
    assert await context.cookies() == []

    await page.get_by_label("Bootstrap API key").fill(BOOTSTRAP_KEY)
    await page.get_by_role("button", name="Show the outbox").click()
    await expect(page.get_by_role("heading", name="Demo outbox")).to_be_visible()
    await expect(page.get_by_role("region").first).to_be_visible()
    [cookie] = await context.cookies()
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/demo")
    assert BOOTSTRAP_KEY not in cookie["value"]
    await page.reload()  # asked once: the session holds
    await expect(page.get_by_role("heading", name="Demo outbox")).to_be_visible()
    await context.close()

    clinical = create_app(Settings(profile="clinical"), pool=pool, temporal=temporal)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=clinical), base_url="http://x") as other:
        assert (await other.get("/demo/outbox")).status_code == 404
        assert (await other.post("/demo/outbox", data={"key": BOOTSTRAP_KEY})).status_code == 404
