"""What the patient's link page shows, read from the pathway's view: the open question's form (else a line
saying nothing is open), the appointment the patient may ask to change, the patient's choice of messages
(api/pages/message_choices.py), and the confirmations after a POST."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi.responses import RedirectResponse, Response
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.pages.message_choices import choices_form
from api.pages.render import PAGE_HEADERS, appointment_words, page, texts
from api.read_copy import read_view
from db.patient_links import Link, find_answer
from db.pool import Queryable
from domain.consents import ConsentCategory
from domain.open_question import (
    ChangeOffer,
    OpenQuestion,
    appointment_of_key,
    appointment_to_change,
    change_key,
    open_question,
)
from domain.view import PathwayView


class Unavailable:
    """Temporal cannot be asked now."""


UNAVAILABLE = Unavailable()


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


async def open_now(temporal: Client, pool: Queryable, pathway_id: str) -> Shown | Unavailable:
    """What is open on the pathway now. A pathway Temporal no longer has (past its retention) has nothing.
    Read as the API reads a view (api/read_copy.py): from its read copy while the history has not moved on,
    so a patient opening a link at rest costs the worker nothing."""
    try:
        view = await read_view(temporal, pool, pathway_id)
    except RPCError as err:
        return Shown() if err.status == RPCStatusCode.NOT_FOUND else UNAVAILABLE
    return shown_by(view, datetime.now(UTC))


async def current(
    temporal: Client, pool: Queryable, link: Link, token: str, language: str, *, status: int, notice: str
) -> Response:
    """The page as it stands now, with a notice on top (why what was sent was not recorded)."""
    shown = await open_now(temporal, pool, link.pathway_id)
    if isinstance(shown, Unavailable):
        return busy(language)
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
    urgent: str | None = None,
    consents: Mapping[ConsentCategory, bool] | None = None,
) -> Response:
    """The page: the open question's form (else a line saying nothing is open), the change form of the
    appointment to come, if any, and the choice of messages when `consents` (those in force) are given. Each
    form rendered has an answer id of its own: a second submit of it records nothing more."""
    t = texts(language)
    common: dict[str, Any] = {
        "lang": language,
        "t": t,
        "change": _change_form(token, language, timezone, shown),
        "consents": choices_form(token, consents) if consents is not None else None,
        "urgent": t[urgent] if urgent else None,
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


async def thanks(pool: Queryable, link: Link, token: str, answered: str, language: str) -> Response | None:
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


def confirmed(token: str, answer_id: uuid.UUID) -> Response:
    return RedirectResponse(f"/p/{token}?answered={answer_id}", status_code=303, headers=PAGE_HEADERS)


def busy(language: str, *, urgent: str | None = None) -> Response:
    """Try again; `urgent` (a text's key), advice the patient needs whatever happens to their answer."""
    t = texts(language)
    advice = t[urgent] if urgent else None
    title, paragraphs = t["busy_title"], [t["busy"]]
    return page("message.html", 503, lang=language, title=title, paragraphs=paragraphs, urgent=advice)
