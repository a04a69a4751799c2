"""The patient's link page, `/p/{token}`: the open question in the patient's language, and their answer.

The token in the path is the credential, and the only one: no cookie is read or set, so another site cannot
make a patient's browser answer (it cannot know the token). A POST that is taken redirects (303) to a GET
that confirms it, so a reload sends nothing again; the form's answer id makes a second submit of the same
form record nothing more (db/patient_links.py, api/link_answers.py). A tampered or unknown token is 404, an
expired or revoked one 410: a plain page in both languages that names no one and changes nothing.
"""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api.dependencies import AppSettings, Pool, TemporalClient
from api.link_answers import (
    RECORDED_BY,
    FormError,
    action_of,
    answer_for,
    read_form,
    send,
    target_workflow,
)
from api.outages import TEMPORAL_OUTAGES
from api.pages.render import PAGE_HEADERS, language_of, page, texts
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
from domain.open_question import OpenQuestion, open_question, question_of_key
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
        thanked = await _thanks(pool, link, answered, language)
        if thanked is not None:
            return thanked
    question = await _asked_now(temporal, link.pathway_id)
    if isinstance(question, _Unavailable):
        return _busy(language)
    await audit.record(
        pool,
        actor=RECORDED_BY,
        action="patient_link.open",
        pathway_id=link.pathway_id,
        patient_ref=link.patient_ref,
        detail={"link_id": str(link.link_id)},
    )
    return _question_page(token, language, question)


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
    earlier = await find_answer(pool, form.answer_id, link.link_id)
    if earlier is not None and earlier.recorded:
        return _confirmed(token, form.answer_id)
    question = question_of_key(earlier.question) if earlier is not None else None
    if question is None:  # a first submit: it answers the question open now, or nothing
        now_open = await _asked_now(temporal, link.pathway_id)
        if isinstance(now_open, _Unavailable):
            return _busy(language)
        if now_open is None or now_open.key != form.question:
            return _question_page(token, language, now_open, status=409, notice="question_closed")
        question = now_open
    try:
        answer = answer_for(question, form)
    except FormError:
        return _question_page(token, language, question, status=422, error="choose_one")
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


async def _asked_now(temporal: Client, pathway_id: str) -> OpenQuestion | _Unavailable | None:
    """The question open on the pathway now. A pathway Temporal no longer has (past its retention) has
    none."""
    try:
        view = await read_pathway_view(temporal, pathway_id)
    except RPCError as err:
        return None if err.status == RPCStatusCode.NOT_FOUND else UNAVAILABLE
    return open_question(view)


async def _current(
    temporal: Client, link: Link, token: str, language: str, *, status: int, notice: str
) -> Response:
    """The page as it stands now, with a notice on top (why the answer sent was not recorded)."""
    question = await _asked_now(temporal, link.pathway_id)
    if isinstance(question, _Unavailable):
        return _busy(language)
    return _question_page(token, language, question, status=status, notice=notice)


def _question_page(
    token: str,
    language: str,
    question: OpenQuestion | None,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    t = texts(language)
    common: dict[str, Any] = {"lang": language, "t": t}
    notice_text = t[notice] if notice else None
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
        answer_id=uuid.uuid4(),  # one per rendered form: a second submit of it records nothing more
        notice=notice_text,
        error=t[error] if error else None,
        **common,
    )


async def _thanks(pool: Queryable, link: Link, answered: str, language: str) -> Response | None:
    """The confirmation of an answer this link recorded; None for any other id (the page then shows)."""
    try:
        answer_id = uuid.UUID(answered)
    except ValueError:
        return None
    answer = await find_answer(pool, answer_id, link.link_id)
    if answer is None or not answer.recorded:
        return None
    t = texts(language)
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
