"""The patient's link page, `/p/{token}`: the open question in the patient's language, and their answer;
beside it (or alone), the next booked appointment, which the patient can ask the clinic to move or cancel.

The token in the path is the credential, and the only one: no cookie is read or set, so another site cannot
make a patient's browser answer (it cannot know the token). A POST that is taken redirects (303) to a GET
that confirms it, so a reload sends nothing again; the form's answer id makes a second submit of the same
form record nothing more (db/patient_links.py, api/link_answers.py). A tampered or unknown token is 404, an
expired or revoked one 410: a plain page in both languages that names no one and changes nothing.

A wish to change the appointment is taken the same way (its form's `question` names the appointment): the
pathway's `request_appointment_change` Update, staff then see NeedsAttention `reschedule_requested`, and the
appointment stays booked until they act. A wish already made for it (by this page, a text or a call) is
answered as taken: the clinic knows.
"""

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api.dependencies import AppSettings, Pool, TemporalClient
from api.link_answers import (
    RECORDED_BY,
    Form,
    FormError,
    action_of,
    answer_for,
    change_for,
    read_form,
    send,
    send_change,
    target_workflow,
)
from api.outages import TEMPORAL_OUTAGES
from api.pages.render import PAGE_HEADERS, appointment_words, language_of, page, texts
from config.settings import Settings
from db import audit
from db.patient_links import (
    SECRET_PURPOSE,
    Link,
    answer_recorded,
    claim_answer,
    find_answer,
    find_link,
    release_answer,
)
from db.pool import Queryable
from db.signing_secrets import signing_secret
from domain.link_tokens import TokenProblem, unseal
from domain.open_question import (
    ChangeOffer,
    OpenQuestion,
    appointment_of_key,
    appointment_to_change,
    change_key,
    open_question,
    question_of_key,
)
from domain.view import PathwayView
from workflows.reading import read_pathway_view

router = APIRouter(include_in_schema=False)  # HTML for people, not part of the JSON API's contract

_PROBLEMS = {
    # (status, English title, English text, Spanish title, Spanish text)
    TokenProblem.NOT_OURS: (
        404,
        "This link is not valid",
        "Please use the link in the latest message from your clinic, or call the clinic.",
        "Este enlace no es válido",
        "Use el enlace del último mensaje de su clínica, o llame a la clínica.",
    ),
    TokenProblem.EXPIRED: (
        410,
        "This link is no longer valid",
        "It has expired or been replaced. Please use the link in the latest message from your clinic, or "
        "call the clinic.",
        "Este enlace ya no es válido",
        "Ha caducado o se ha sustituido. Use el enlace del último mensaje de su clínica, o llame a la"
        " clínica.",
    ),
}


@router.get("/p/{token}")
async def show_question(
    token: str, request: Request, pool: Pool, temporal: TemporalClient, answered: str | None = None
) -> Response:
    link = await _open(request, pool, token)
    if isinstance(link, Response):
        return link
    language = language_of(link.preferred_language)
    if answered is not None:
        thanked = await _thanks(pool, link, token, answered, language)
        if thanked is not None:
            return thanked
    shown = await _open_now(temporal, link.pathway_id)
    if isinstance(shown, _Unavailable):
        return _busy(language)
    await audit.record(
        pool,
        actor=RECORDED_BY,
        action="patient_link.open",
        pathway_id=link.pathway_id,
        patient_ref=link.patient_ref,
        detail={"link_id": str(link.link_id)},
    )
    return link_page(token, language, link.timezone, shown)


@router.post("/p/{token}")
async def take_answer(
    token: str, request: Request, pool: Pool, temporal: TemporalClient, settings: AppSettings
) -> Response:
    link = await _open(request, pool, token)
    if isinstance(link, Response):
        return link
    language = language_of(link.preferred_language)
    try:
        form = read_form(await request.body())
    except FormError:
        return await _current(temporal, link, token, language, status=400, notice="choose_one")
    appointment_id = appointment_of_key(form.question)
    if appointment_id is not None:
        return await _take_change(temporal, pool, settings, link, token, form, appointment_id)
    earlier = await find_answer(pool, form.answer_id, link.link_id)
    if earlier is not None and earlier.recorded:
        return _confirmed(token, form.answer_id)
    question = question_of_key(earlier.question) if earlier is not None else None
    shown: Shown | _Unavailable | None = None
    if question is None:  # a first submit: it answers the question open now, or nothing
        shown = await _open_now(temporal, link.pathway_id)
        if isinstance(shown, _Unavailable):
            return _busy(language)
        if shown.question is None or shown.question.key != form.question:
            return link_page(token, language, link.timezone, shown, status=409, notice="question_closed")
        question = shown.question
    try:
        answer = answer_for(question, form)
    except FormError:
        if shown is None:
            shown = await _open_now(temporal, link.pathway_id)
        change = shown.change if isinstance(shown, Shown) else None
        again = Shown(question, change)
        return link_page(token, language, link.timezone, again, status=422, error="choose_one")
    workflow_id = earlier.workflow_id if earlier else target_workflow(link.pathway_id, question)
    if earlier is None:
        # A concurrent submit of the same form may claim it first: this one then sends the same Update id,
        # which attaches to that one's Update.
        await claim_answer(
            pool,
            form.answer_id,
            link.link_id,
            question=question.key,
            workflow_id=workflow_id,
            red_flags=bool(getattr(answer, "red_flags", [])),
        )
    try:
        await asyncio.wait_for(
            send(temporal, workflow_id, answer, form.answer_id), timeout=settings.update_timeout_seconds
        )
    except WorkflowUpdateFailedError:  # refused: the question closed as the answer arrived
        await release_answer(pool, form.answer_id)
        return await _current(temporal, link, token, language, status=409, notice="question_closed")
    except RPCError as err:
        if err.status in TEMPORAL_OUTAGES:
            return _busy(language)  # the claim stays: sending the form again attaches to this Update
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        await release_answer(pool, form.answer_id)  # the workflow that took it has ended
        return await _current(temporal, link, token, language, status=409, notice="question_closed")
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        return _busy(language)
    if not await answer_recorded(pool, form.answer_id):
        return _confirmed(token, form.answer_id)  # a double submit: the other one recorded and audited it
    await audit.record(
        pool,
        actor=RECORDED_BY,
        action=action_of(answer),
        pathway_id=link.pathway_id,
        patient_ref=link.patient_ref,
        detail={"via": "patient_link", "link_id": str(link.link_id)},
    )
    return _confirmed(token, form.answer_id)


async def _open(request: Request, pool: Queryable, token: str) -> Link | Response:
    """The link the token opens, or the plain page saying why it opens none."""
    state = request.app.state
    if getattr(state, "patient_link_secret", None) is None:
        state.patient_link_secret = await signing_secret(pool, SECRET_PURPOSE)
    now = datetime.now(UTC)
    opened = unseal(state.patient_link_secret, token, now)
    if isinstance(opened, TokenProblem):
        return _link_problem(opened)
    link = await find_link(pool, opened.link_id)
    if link is None:  # sealed with our secret but never stored: as good as forged
        return _link_problem(TokenProblem.NOT_OURS)
    if link.revoked_at is not None or link.expires_at <= now:
        return _link_problem(TokenProblem.EXPIRED)
    return link


def _link_problem(problem: TokenProblem) -> Response:
    status, title, english, title_es, spanish = _PROBLEMS[problem]
    return page(
        "link_problem.html",
        status,
        lang="en",
        title=title,
        english=english,
        title_es=title_es,
        spanish=spanish,
    )


class _Unavailable:
    """Temporal cannot be asked now."""


UNAVAILABLE = _Unavailable()


@dataclass(frozen=True)
class Shown:
    """What the page shows: the open question, and the appointment the patient may ask to change."""

    question: OpenQuestion | None = None
    change: ChangeOffer | None = None
    asked: frozenset[str] = field(default_factory=frozenset)
    """The appointments a change is asked for already."""


def shown_by(view: PathwayView | None, now: datetime) -> Shown:
    """What the page shows for the pathway's view (None: a pathway Temporal no longer has)."""
    if view is None:
        return Shown()
    return Shown(
        open_question(view),
        appointment_to_change(view, now),
        frozenset(r.appointment_id for r in view.change_requests),
    )


async def _open_now(temporal: Client, pathway_id: str) -> Shown | _Unavailable:
    """What is open on the pathway now. A pathway Temporal no longer has (past its retention) has nothing."""
    try:
        view = await read_pathway_view(temporal, pathway_id)
    except RPCError as err:
        return Shown() if err.status == RPCStatusCode.NOT_FOUND else UNAVAILABLE
    return shown_by(view, datetime.now(UTC))


async def _current(
    temporal: Client, link: Link, token: str, language: str, *, status: int, notice: str
) -> Response:
    """The page as it stands now, with a notice on top (why what was sent was not recorded)."""
    shown = await _open_now(temporal, link.pathway_id)
    if isinstance(shown, _Unavailable):
        return _busy(language)
    return link_page(token, language, link.timezone, shown, status=status, notice=notice)


def link_page(
    token: str,
    language: str,
    timezone: str,
    shown: Shown,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    """The page: the open question's form (else a line saying nothing is open), and the change form of the
    appointment to come, if any. Each form rendered has an answer id of its own: a second submit of it
    records nothing more."""
    t = texts(language)
    common: dict[str, Any] = {
        "lang": language,
        "t": t,
        "change": _change_form(token, language, timezone, shown),
    }
    notice_text = t[notice] if notice else None
    question = shown.question
    if question is None:
        paragraphs = [p for p in (notice_text, t["nothing_open"]) if p]
        return page("message.html", status, title=t["nothing_open_title"], paragraphs=paragraphs, **common)
    titles = {"diary": "diary_title", "follow_up": "follow_up_title", "outcome": "outcome_title"}
    return page(
        "question.html",
        status,
        title=t[titles[question.kind]],
        question=question,
        action=f"/p/{token}",
        answer_id=uuid.uuid4(),
        notice=notice_text,
        error=t[error] if error else None,
        **common,
    )


def _change_form(token: str, language: str, timezone: str, shown: Shown) -> dict[str, Any] | None:
    offer = shown.change
    if offer is None:
        return None
    appointment_id = offer.appointment.appointment_id
    return {
        "words": appointment_words(offer.appointment, language, timezone),
        "requested": offer.requested,
        "action": f"/p/{token}",
        "answer_id": uuid.uuid4(),
        "key": change_key(appointment_id),
    }


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
        return await _current(temporal, link, token, language, status=400, notice="choose_one")
    earlier = await find_answer(pool, form.answer_id, link.link_id)
    if earlier is not None and earlier.recorded:
        return _confirmed(token, form.answer_id)
    if earlier is None:  # a concurrent submit of the same form sends the same Update id: it attaches
        await claim_answer(
            pool,
            form.answer_id,
            link.link_id,
            question=form.question,
            workflow_id=link.pathway_id,
            red_flags=False,
        )
    try:
        await asyncio.wait_for(
            send_change(temporal, link.pathway_id, request, form.answer_id),
            timeout=settings.update_timeout_seconds,
        )
    except WorkflowUpdateFailedError:  # refused: asked for already, or no longer booked and to come
        shown = await _open_now(temporal, link.pathway_id)
        if isinstance(shown, _Unavailable):
            return _busy(language)  # the claim stays: sending the form again tries again
        if appointment_id in shown.asked:  # by another form, a text or a call: the clinic knows
            await answer_recorded(pool, form.answer_id)  # so that the confirmation shows; nothing to audit
            return _confirmed(token, form.answer_id)
        await release_answer(pool, form.answer_id)
        return link_page(token, language, link.timezone, shown, status=409, notice="change_closed")
    except RPCError as err:
        if err.status in TEMPORAL_OUTAGES:
            return _busy(language)
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        await release_answer(pool, form.answer_id)  # the pathway has ended
        return await _current(temporal, link, token, language, status=409, notice="change_closed")
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        return _busy(language)
    if not await answer_recorded(pool, form.answer_id):
        return _confirmed(token, form.answer_id)  # a double submit: the other one recorded and audited it
    await audit.record(
        pool,
        actor=RECORDED_BY,
        action="appointment.change_request",
        pathway_id=link.pathway_id,
        patient_ref=link.patient_ref,
        detail={"via": "patient_link", "link_id": str(link.link_id), "wish": request.wish},
    )
    return _confirmed(token, form.answer_id)


async def _thanks(pool: Queryable, link: Link, token: str, answered: str, language: str) -> Response | None:
    """The confirmation of an answer this link recorded; None for any other id (the page then shows)."""
    try:
        answer_id = uuid.UUID(answered)
    except ValueError:
        return None
    answer = await find_answer(pool, answer_id, link.link_id)
    if answer is None or not answer.recorded:
        return None
    t = texts(language)
    if appointment_of_key(answer.question) is not None:
        return page(
            "message.html",
            lang=language,
            title=t["change_asked_title"],
            paragraphs=[t["change_asked"]],
            back={"href": f"/p/{token}", "text": t["change_back"]},
        )
    return page(
        "message.html",
        lang=language,
        title=t["answered_title"],
        paragraphs=[t["answered"]],
        urgent=t["red_flag_advice"] if answer.red_flags else None,
    )


def _confirmed(token: str, answer_id: uuid.UUID) -> Response:
    return RedirectResponse(f"/p/{token}?answered={answer_id}", status_code=303, headers=PAGE_HEADERS)


def _busy(language: str) -> Response:
    t = texts(language)
    return page("message.html", 503, lang=language, title=t["busy_title"], paragraphs=[t["busy"]])
