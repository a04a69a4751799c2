"""The patient's choice of messages, from the link page's "Messages from the clinic" form: `POST
/p/{token}/consents` records what the patient changed (api/link_consents.py) and redirects (303) to `GET
/p/{token}/consents?saved=<answer id>`, which confirms it, so a reload sends nothing again.

As for the page's other forms (api/routes/patient_page.py), the token in the path is the only credential: no
cookie is read or set, so another site cannot make a patient's browser send this form (it cannot know the
token). A tampered, unknown, expired or revoked token changes nothing and answers the same plain page.
Consents live in PostgreSQL alone, so this needs no Temporal.
"""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.dependencies import Pool
from api.link_answers import FormError
from api.link_consents import CONSENTS_KEY, read_choices, record_choices
from api.pages.link_opening import open_link
from api.pages.message_choices import choices_saved, not_saved_page, saved_page
from api.pages.render import PAGE_HEADERS, language_of
from db.consents import consents_of
from db.patient_links import find_answer

router = APIRouter(include_in_schema=False)  # HTML for people, not part of the JSON API's contract


@router.post("/p/{token}/consents")
async def take_choices(token: str, request: Request, pool: Pool) -> Response:
    link = await open_link(request, pool, token)
    if isinstance(link, Response):
        return link
    try:
        form = read_choices(await request.body())
    except FormError:
        language = language_of(link.preferred_language)
        return not_saved_page(token, language, await consents_of(pool, link.patient_ref))
    await record_choices(pool, link, form)
    return choices_saved(token, form.answer_id)


@router.get("/p/{token}/consents")
async def confirm_choices(token: str, request: Request, pool: Pool, saved: str | None = None) -> Response:
    """The confirmation of a choices form this link recorded; any other id goes back to the page."""
    link = await open_link(request, pool, token)
    if isinstance(link, Response):
        return link
    try:
        answer = await find_answer(pool, uuid.UUID(saved or ""), link.link_id)
    except ValueError:
        answer = None
    if answer is None or answer.question != CONSENTS_KEY or not answer.recorded:
        return RedirectResponse(f"/p/{token}", status_code=303, headers=PAGE_HEADERS)
    return saved_page(token, language_of(link.preferred_language))
