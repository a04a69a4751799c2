"""The patient's link page, `/p/{token}`: the open question in the patient's language, and their answer;
beside it (or alone), the appointment the pathway waits on, which the patient can ask the clinic to move or
cancel. Opening the link is api/pages/link_opening.py; what the page shows, api/pages/link_page.py.

The token in the path is the credential, and the only one: no cookie is read or set, so another site cannot
make a patient's browser answer (it cannot know the token). A POST that is taken redirects (303) to a GET
that confirms it, so a reload sends nothing again; the form's answer id makes a second submit of the same
form record nothing more (db/patient_links.py, api/link_answers.py).

A wish to change the appointment is taken the same way (its form's `question` names the appointment): the
pathway's `request_appointment_change` Update, staff then see NeedsAttention `reschedule_requested`, and the
appointment stays booked until they act. A wish already made for it (by this page, a text or a call) is
answered as taken: the clinic knows.
"""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from temporalio.client import Client

from api.dependencies import AppSettings, Pool, TemporalClient
from api.link_answers import (
    RECORDED_BY,
    Form,
    FormError,
    Sent,
    action_of,
    answer_for,
    change_for,
    content_of,
    read_form,
    recorded_once,
    reported_red_flags,
    send,
    send_change,
    sent_once,
    target_workflow,
)
from api.link_red_flags import report_red_flags
from api.pages.link_opening import open_link
from api.pages.link_page import (
    Shown,
    Unavailable,
    busy,
    confirmed,
    current,
    link_page,
    open_now,
    thanks,
)
from api.pages.render import language_of
from config.settings import Settings
from db import audit
from db.consents import consents_of
from db.patient_links import Link, answer_recorded, claim_answer, find_answer, release_answer
from db.pool import Queryable
from domain.open_question import appointment_of_key, question_of_key

router = APIRouter(include_in_schema=False)  # HTML for people, not part of the JSON API's contract


@router.get("/p/{token}")
async def show_question(
    token: str, request: Request, pool: Pool, temporal: TemporalClient, answered: str | None = None
) -> Response:
    link = await open_link(request, pool, token)
    if isinstance(link, Response):
        return link
    language = language_of(link.preferred_language)
    if answered is not None:
        thanked = await thanks(pool, link, token, answered, language)
        if thanked is not None:
            return thanked
    shown = await open_now(temporal, pool, link.pathway_id)
    if isinstance(shown, Unavailable):
        return busy(language)
    await audit.record(
        pool,
        actor=RECORDED_BY,
        action="patient_link.open",
        pathway_id=link.pathway_id,
        patient_ref=link.patient_ref,
        detail={"link_id": str(link.link_id)},
    )
    consents = await consents_of(pool, link.patient_ref)  # the choice of messages (routes/link_consents.py)
    return link_page(token, language, link.timezone, shown, consents=consents)


@router.post("/p/{token}")
async def take_answer(
    token: str, request: Request, pool: Pool, temporal: TemporalClient, settings: AppSettings
) -> Response:
    received_at = datetime.now(UTC)
    link = await open_link(request, pool, token)
    if isinstance(link, Response):
        return link
    language = language_of(link.preferred_language)
    try:
        form = read_form(await request.body())
    except FormError:
        return await current(temporal, pool, link, token, language, status=400, notice="choose_one")
    appointment_id = appointment_of_key(form.question)
    if appointment_id is not None:
        return await _take_change(temporal, pool, settings, link, token, form, appointment_id)
    earlier = await find_answer(pool, form.answer_id, link.link_id)
    question = question_of_key(earlier.question) if earlier is not None else None
    shown: Shown | Unavailable | None = None
    if question is None:  # a first submit: it answers the question open now, or nothing
        shown = await open_now(temporal, pool, link.pathway_id)
        if isinstance(shown, Unavailable):
            return busy(language)
        if shown.question is None or shown.question.key != form.question:
            return await _not_recorded(temporal, pool, settings, link, token, form, "question_closed", shown)
        question = shown.question
    try:
        answer = answer_for(question, form, received_at)
    except FormError:
        if earlier is not None and earlier.recorded:  # sent before, and now incomplete: the first stands
            return await _not_recorded(temporal, pool, settings, link, token, form, "answered_before")
        if shown is None:
            shown = await open_now(temporal, pool, link.pathway_id)
        change = shown.change if isinstance(shown, Shown) else None
        again = Shown(question, change)
        return link_page(token, language, link.timezone, again, status=422, error="choose_one")
    content = content_of(answer)
    if earlier is None:
        # A concurrent submit of the same form may claim it first: this one then sends the same Update id,
        # which attaches to that one's Update.
        red_flags = bool(getattr(answer, "red_flags", []))
        workflow_id = target_workflow(link.pathway_id, question)
        claimed = await claim_answer(
            pool,
            form.answer_id,
            link.link_id,
            question=question.key,
            workflow_id=workflow_id,
            red_flags=red_flags,
            content_hash=content,
        )
        if claimed is None:
            earlier = await find_answer(pool, form.answer_id, link.link_id)
            if earlier is None:  # the id is another link's: not a form this page rendered
                return await current(temporal, pool, link, token, language, status=400, notice="choose_one")
    if earlier is not None and earlier.content_hash not in (None, content):
        # The form was sent before with other answers (the back button, a change of mind): the first stands,
        # and is never confirmed as this one. Red flags in this one are urgent all the same.
        return await _not_recorded(temporal, pool, settings, link, token, form, "answered_before")
    if earlier is not None and earlier.recorded:
        return confirmed(token, form.answer_id)
    workflow_id = earlier.workflow_id if earlier else target_workflow(link.pathway_id, question)
    sent = await sent_once(settings, send(temporal, workflow_id, answer, form.answer_id))
    if sent == Sent.BUSY:
        return busy(language)
    if sent in (Sent.REFUSED, Sent.ENDED):  # the question closed as the answer arrived
        await release_answer(pool, form.answer_id, link.link_id)
        return await _not_recorded(temporal, pool, settings, link, token, form, "question_closed")
    return await _audited_once(pool, link, token, form, action_of(answer), {})


async def _not_recorded(
    temporal: Client,
    pool: Queryable,
    settings: Settings,
    link: Link,
    token: str,
    form: Form,
    notice: str,
    shown: Shown | None = None,
) -> Response:
    """The page as it stands (409), saying why the answer was not recorded. Red flags in the form still go
    to the pathway (api/link_red_flags.py), and the page tells the patient what to do now, and whether the
    clinic was told."""
    language = language_of(link.preferred_language)
    urgent = None
    if flags := reported_red_flags(form):
        told = await report_red_flags(temporal, pool, settings, link, form.answer_id, flags)
        urgent = "red_flag_advice" if told else "red_flag_advice_not_told"
    if shown is None:
        now = await open_now(temporal, pool, link.pathway_id)
        if isinstance(now, Unavailable):
            return busy(language, urgent=urgent)
        shown = now
    return link_page(token, language, link.timezone, shown, status=409, notice=notice, urgent=urgent)


async def _take_change(
    temporal: Client,
    pool: Queryable,
    settings: Settings,
    link: Link,
    token: str,
    form: Form,
    appointment_id: str,
) -> Response:
    """The patient's wish to move or cancel the appointment, sent to the pathway once per rendered form."""
    language = language_of(link.preferred_language)
    try:
        request = change_for(appointment_id, form)
    except FormError:
        return await current(temporal, pool, link, token, language, status=400, notice="choose_one")
    earlier = await find_answer(pool, form.answer_id, link.link_id)
    if earlier is not None and earlier.recorded:
        return confirmed(token, form.answer_id)
    if earlier is None:  # a concurrent submit of the same form sends the same Update id: it attaches
        claimed = await claim_answer(
            pool,
            form.answer_id,
            link.link_id,
            question=form.question,
            workflow_id=link.pathway_id,
            red_flags=False,
        )
        if claimed is None and await find_answer(pool, form.answer_id, link.link_id) is None:
            # The id is another link's: not a form this page rendered.
            return await current(temporal, pool, link, token, language, status=400, notice="choose_one")
    sent = await sent_once(settings, send_change(temporal, link.pathway_id, request, form.answer_id))
    if sent == Sent.BUSY:
        return busy(language)
    if sent == Sent.REFUSED:  # asked for already, or no longer booked and to come
        shown = await open_now(temporal, pool, link.pathway_id)
        if isinstance(shown, Unavailable):
            return busy(language)  # the claim stays: sending the form again tries again
        if appointment_id in shown.asked:  # by another form, a text or a call: the clinic knows
            # So that the confirmation shows; nothing to audit.
            await answer_recorded(pool, form.answer_id, link.link_id)
            return confirmed(token, form.answer_id)
        await release_answer(pool, form.answer_id, link.link_id)
        return link_page(token, language, link.timezone, shown, status=409, notice="change_closed")
    if sent == Sent.ENDED:
        await release_answer(pool, form.answer_id, link.link_id)
        return await current(temporal, pool, link, token, language, status=409, notice="change_closed")
    return await _audited_once(pool, link, token, form, "appointment.change_request", {"wish": request.wish})


async def _audited_once(
    pool: Queryable, link: Link, token: str, form: Form, action: str, detail: dict[str, Any]
) -> Response:
    """Marks the form's answer recorded and audits it, once, then confirms it."""
    await recorded_once(pool, link, form.answer_id, action, detail)
    return confirmed(token, form.answer_id)
